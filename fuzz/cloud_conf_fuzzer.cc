// ParseCloudConf (server/config/cloud_conf.h) over cloud.d/cloud.conf text.
//
// Input: the whole file text. Checks: errors are CONFIG_INVALID and never
// quote the token; what parses and serializes parses back equal, and
// serializing again gives the same text (the header's round-trip promise).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/secrets.h"
#include "server/common/error.h"
#include "server/config/cloud_conf.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  constexpr char kPath[] = "/var/lib/cloudlink/cloud.d/cloud.conf";
  absl::StatusOr<config::CloudConf> parsed =
      config::ParseCloudConf(text, kPath);
  if (!parsed.ok()) {
    FUZZ_CHECK(ReasonOf(parsed.status()) == "CONFIG_INVALID",
               parsed.status().ToString());
    CheckNoSecretQuoted(text, [&](absl::string_view t) {
      return std::string(config::ParseCloudConf(t, kPath).status().message());
    });
    return;
  }
  absl::StatusOr<std::string> written =
      config::SerializeCloudConf(*parsed, kPath);
  if (!written.ok()) {
    FUZZ_CHECK(ReasonOf(written.status()) == "CONFIG_INVALID",
               written.status().ToString());
    CheckNoSecretQuoted(text, [&](absl::string_view t) {
      absl::StatusOr<config::CloudConf> conf = config::ParseCloudConf(t, kPath);
      if (!conf.ok()) return std::string(conf.status().message());
      return std::string(
          config::SerializeCloudConf(*conf, kPath).status().message());
    });
    return;
  }
  absl::StatusOr<config::CloudConf> back =
      config::ParseCloudConf(*written, kPath);
  FUZZ_CHECK(back.ok(), "serialized cloud.conf does not parse: " +
                            back.status().ToString());
  FUZZ_CHECK(*back == *parsed, "Parse(Serialize(conf)) != conf");
  absl::StatusOr<std::string> again = config::SerializeCloudConf(*back, kPath);
  FUZZ_CHECK(again.ok() && *again == *written,
             "Serialize(Parse(Serialize(conf))) != Serialize(conf)");
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

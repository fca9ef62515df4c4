// ParseClaimConf (server/config/claim_conf.h) over claim.conf text.
//
// Input: the whole file text. Checks: errors are INVALID_ARGUMENT, name the
// file, and never quote the token or a proxy password; a parsed result has
// source "claim.conf", a token, and a url without a trailing '/'.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/secrets.h"
#include "server/config/claim_conf.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  constexpr char kPath[] = "/etc/cloudlink/claim.conf";
  absl::StatusOr<config::ClaimInputs> parsed =
      config::ParseClaimConf(text, kPath);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    FUZZ_CHECK(absl::StrContains(parsed.status().message(), kPath),
               "error does not name the file: " + parsed.status().ToString());
    CheckNoSecretQuoted(text, [&](absl::string_view t) {
      return std::string(config::ParseClaimConf(t, kPath).status().message());
    });
    return;
  }
  FUZZ_CHECK(parsed->source == "claim.conf", parsed->source);
  FUZZ_CHECK(!parsed->token.empty(), "parsed without a token");
  FUZZ_CHECK(!absl::EndsWith(parsed->url, "/"), parsed->url);
  for (const std::string& room : parsed->rooms) {
    FUZZ_CHECK(!room.empty(), "empty room kept");
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

// ParseWssUrl (server/transport/wss_url.h) over the MQTT endpoint
// from the cloud's env answer.
//
// Input: the URL. Checks: errors are INVALID_ARGUMENT URL_INVALID; a parsed
// URL has a non-empty host without brackets or '/', a port in 1..65535, a
// path starting with '/'; and the URL rebuilt from the parts parses back to
// the same parts.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "server/common/error.h"
#include "server/transport/wss_url.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<transport::WssUrl> parsed = transport::ParseWssUrl(url);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument &&
                   ReasonOf(parsed.status()) == "URL_INVALID",
               parsed.status().ToString());
    return;
  }
  FUZZ_CHECK(!parsed->host.empty(), "empty host");
  FUZZ_CHECK(!absl::StrContains(parsed->host, "/"), "host with '/'");
  FUZZ_CHECK(parsed->port >= 1 && parsed->port <= 65535, "port out of range");
  FUZZ_CHECK(absl::StartsWith(parsed->path, "/"), "path without '/'");
  const bool v6 = absl::StrContains(parsed->host, ":");
  const std::string rebuilt =
      absl::StrCat("wss://", v6 ? "[" : "", parsed->host, v6 ? "]" : "", ":",
                   parsed->port, parsed->path);
  absl::StatusOr<transport::WssUrl> back = transport::ParseWssUrl(rebuilt);
  FUZZ_CHECK(back.ok(), "rebuilt URL does not parse: " + rebuilt + " " +
                            back.status().ToString());
  FUZZ_CHECK(back->host == parsed->host && back->port == parsed->port &&
                 back->path == parsed->path,
             "rebuilt URL parses differently: " + rebuilt);
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

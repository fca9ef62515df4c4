// StatusFromLwsConnectionError (server/transport/lws_connection_error.h) over
// the text libwebsockets passes with a connection error (it may quote what the
// peer or proxy sent).
//
// Input: byte 0 says whether an HTTP proxy was in use; the rest is lws's
// text. Checks: UNAVAILABLE with one of the documented reasons, and the
// message ends with lws's text in parentheses.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/common/error.h"
#include "server/transport/lws_connection_error.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const bool via_http_proxy = (in.Byte() & 1) != 0;
  const std::string text = in.Rest();
  const absl::Status status =
      transport::StatusFromLwsConnectionError(text, via_http_proxy);
  static const std::set<std::string> kReasons = {
      "CONNECT_FAILED", "TLS_VERIFY_FAILED", "TLS_FAILED",
      "PROXY_AUTH",     "PROXY_FAILED",      "WS_UPGRADE_FAILED"};
  FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable,
             status.ToString());
  FUZZ_CHECK(kReasons.count(ReasonOf(status)) == 1, status.ToString());
  const std::string tail = "(" + (text.empty() ? "no detail" : text) + ")";
  FUZZ_CHECK(absl::EndsWith(status.message(), tail),
             "message does not end with lws's text: " + status.ToString());
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

// The SOCKS5 reply parsers (server/socks5/socks5_handshake.h) over bytes from
// the proxy.
//
// Input: byte 0 picks the parser and whether credentials were offered; the
// rest is what the proxy sent. Checks: a complete reply's length is within
// the input, and the same prefix gives the same length (bytes after it
// belong to the next step); a shorter prefix never completes; errors are
// UNAVAILABLE PROXY_FAILED / PROXY_AUTH / PROXY_REFUSED; a chosen method is one
// we offered.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/common/error.h"
#include "server/socks5/socks5_handshake.h"

namespace cloudlink::fuzz {
namespace {

absl::StatusOr<size_t> Parse(int parser, bool offered, absl::string_view bytes,
                             uint8_t* method) {
  socks5::Destination destination;
  destination.type = socks5::Destination::Type::kDomain;
  destination.address = "mqtt.example";
  destination.port = 443;
  switch (parser) {
    case 0:
      return socks5::ParseMethodSelection(bytes, offered, method);
    case 1:
      return socks5::ParseUserPassReply(bytes);
    default:
      return socks5::ParseConnectReply(bytes, destination);
  }
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const uint8_t control = in.Byte();
  const int parser = control % 3;
  const bool offered = (control & 4) != 0;
  const std::string received = in.Rest();

  uint8_t method = 0x77;
  absl::StatusOr<size_t> parsed = Parse(parser, offered, received, &method);
  if (!parsed.ok()) {
    const std::string reason = ReasonOf(parsed.status());
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kUnavailable &&
                   (reason == "PROXY_FAILED" || reason == "PROXY_AUTH" ||
                    reason == "PROXY_REFUSED"),
               parsed.status().ToString());
    return;
  }
  FUZZ_CHECK(*parsed <= received.size(), "reply longer than the input");
  if (*parsed == 0) return;
  if (parser == 0) {
    FUZZ_CHECK(method == socks5::kMethodNoAuth ||
                   (offered && method == socks5::kMethodUserPass),
               "a method we did not offer");
  }
  uint8_t again_method = 0;
  absl::StatusOr<size_t> exact =
      Parse(parser, offered, absl::string_view(received).substr(0, *parsed),
            &again_method);
  FUZZ_CHECK(exact.ok() && *exact == *parsed, "the reply alone differs");
  absl::StatusOr<size_t> shorter =
      Parse(parser, offered, absl::string_view(received).substr(0, *parsed - 1),
            &again_method);
  FUZZ_CHECK(shorter.ok() && *shorter == 0, "a cut reply completed");
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

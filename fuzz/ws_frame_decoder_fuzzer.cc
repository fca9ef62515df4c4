// WsFrameDecoder (server/websocket/websocket_frame.h) over bytes from the
// server.
//
// Input: byte 0 picks the maximum message size, byte 1 the chunk size for
// the second pass; the rest is the byte stream. Checks: the same messages
// and the same end whether fed at once or in chunks; no data message over
// the maximum; a text message is valid UTF-8; control payloads are at most
// 125 bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/common/utf8.h"
#include "server/websocket/websocket_frame.h"

namespace cloudlink::fuzz {
namespace {

using websocket::WsFrameDecoder;
using websocket::WsMessage;
using websocket::WsOpcode;

struct Decoded {
  std::vector<WsMessage> messages;
  absl::Status end;
};

bool Drain(WsFrameDecoder& decoder, Decoded* out) {
  while (true) {
    absl::StatusOr<absl::optional<WsMessage>> next = decoder.Next();
    if (!next.ok()) {
      out->end = next.status();
      absl::StatusOr<absl::optional<WsMessage>> again = decoder.Next();
      FUZZ_CHECK(!again.ok() && again.status() == next.status(),
                 "error is not sticky");
      return false;
    }
    if (!next->has_value()) return true;
    out->messages.push_back(**next);
  }
}

bool Same(const WsMessage& a, const WsMessage& b) {
  return a.opcode == b.opcode && a.payload == b.payload &&
         a.close_code == b.close_code;
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  static constexpr size_t kMaxSizes[] = {0, 1, 16, 125, 126, 1024, 70000};
  const size_t max_size = kMaxSizes[in.Byte() % 7];
  const size_t chunk = in.Byte() % 13 + 1;
  const std::string stream = in.Rest();

  Decoded whole;
  WsFrameDecoder a(max_size);
  a.Feed(stream);
  Drain(a, &whole);

  Decoded pieces;
  WsFrameDecoder b(max_size);
  for (size_t pos = 0; pos < stream.size(); pos += chunk) {
    b.Feed(absl::string_view(stream).substr(pos, chunk));
    if (!Drain(b, &pieces)) break;
  }
  FUZZ_CHECK(whole.messages.size() == pieces.messages.size(),
             "chunked feeding changed the message count");
  for (size_t i = 0; i < whole.messages.size(); ++i) {
    FUZZ_CHECK(Same(whole.messages[i], pieces.messages[i]),
               "chunked feeding changed a message");
  }
  FUZZ_CHECK(whole.end.code() == pieces.end.code(),
             "chunked feeding changed the outcome: " + whole.end.ToString() +
                 " vs " + pieces.end.ToString());

  for (const WsMessage& m : whole.messages) {
    FUZZ_CHECK(m.opcode != WsOpcode::kContinuation, "continuation returned");
    if (m.opcode == WsOpcode::kText || m.opcode == WsOpcode::kBinary) {
      FUZZ_CHECK(m.payload.size() <= max_size, "message over the maximum");
    } else {
      FUZZ_CHECK(m.payload.size() <= websocket::kWsMaxControlPayload,
                 "control payload over 125 bytes");
    }
    if (m.opcode == WsOpcode::kText) {
      FUZZ_CHECK(IsValidUtf8(m.payload), "text message not UTF-8");
    }
    if (m.opcode == WsOpcode::kClose && m.close_code.has_value()) {
      FUZZ_CHECK(websocket::IsValidWsCloseCode(*m.close_code),
                 "bad close code");
    }
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

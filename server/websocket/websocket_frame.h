#pragma once

// WebSocket framing (RFC 6455 section 5) for the client end of the link:
// the masked client frames it sends. No handshake, no sockets: the
// transport moves the bytes, and libwebsockets decodes what the server sends
// and answers its control frames.
//
// Errors are INVALID_ARGUMENT statuses built with cloudlink::Error, with the
// reason WS_PROTOCOL_ERROR (the frame would break RFC 6455) and a sentence
// saying what was wrong.
//
// Thread-safety: the free functions are pure; the encoder is a plain value
// that one thread uses at a time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink::websocket {

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Control frame payloads are at most this long (RFC 6455 section 5.5).
inline constexpr size_t kWsMaxControlPayload = 125;

// Frame header sizes: 2 bytes, plus 2 or 8 for the extended length, plus 4
// for a client's masking key.
inline constexpr size_t kWsMaxClientHeaderSize = 14;

using WsMaskKey = std::array<uint8_t, 4>;

// Gives a fresh masking key for each frame. Production draws 4 bytes from
// RAND_bytes (RFC 6455 section 10.3 wants them unpredictable); tests return a
// fixed sequence. Called once per frame, on the encoding thread.
using WsMaskKeySource = std::function<WsMaskKey()>;

// XORs data[i] with key[(phase + i) % 4] for i in [0, size), eight bytes at a
// time over the 8-byte-aligned middle and byte by byte over the unaligned head
// and tail. Returns the phase for the byte after the last, (phase + size) % 4,
// so one payload can be masked in pieces. Applying it twice restores data.
size_t ApplyWsMask(char* data, size_t size, const WsMaskKey& key,
                   size_t phase = 0);

// Appends one masked client frame: FIN (when `fin`), `opcode`, the shortest
// of the 7/16/64-bit length forms, `key`, and `payload` masked with `key`.
// Errors (WS_PROTOCOL_ERROR, `*out` unchanged): a control frame (close, ping,
// pong) with more than 125 bytes of payload or without FIN; an opcode outside
// the enum.
absl::Status AppendWsClientFrame(WsOpcode opcode, bool fin,
                                 absl::string_view payload,
                                 const WsMaskKey& key, std::string* out);

// The frames the link sends, each with a key from the caller's source.
class WsFrameEncoder {
 public:
  explicit WsFrameEncoder(WsMaskKeySource key_source);

  // One unfragmented binary message (the MQTT bytes of one or more packets).
  void AppendBinary(absl::string_view payload, std::string* out);

 private:
  WsMaskKeySource key_source_;
};

}  // namespace cloudlink::websocket

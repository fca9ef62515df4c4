#pragma once

// WebSocket framing (RFC 6455 section 5) for the client end of the link:
// masked client frames out, unmasked server frames in. No handshake, no
// sockets: the transport moves the bytes.
//
// Errors are INVALID_ARGUMENT statuses built with cloudlink::Error, with the
// reason WS_PROTOCOL_ERROR (a frame breaks RFC 6455; the connection must be
// failed) or WS_MESSAGE_TOO_LARGE (a message is over the configured maximum),
// and a sentence saying what was wrong.
//
// Thread-safety: the free functions are pure; encoder and decoder objects are
// plain values that one thread uses at a time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/common/stream_buffer.h"

namespace cloudlink::websocket {

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes used by the link (RFC 6455 section 7.4.1).
namespace ws_close {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kMessageTooBig = 1009;
}  // namespace ws_close

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

// True for 1000-1003, 1007-1014 and 3000-4999: the close codes that may
// appear in a Close frame (RFC 6455 section 7.4 and the IANA registry).
bool IsValidWsCloseCode(uint16_t code);

// Appends one masked client frame: FIN (when `fin`), `opcode`, the shortest
// of the 7/16/64-bit length forms, `key`, and `payload` masked with `key`.
// Errors (WS_PROTOCOL_ERROR, `*out` unchanged): a control frame (close, ping,
// pong) with more than 125 bytes of payload or without FIN; an opcode outside
// the enum.
absl::Status AppendWsClientFrame(WsOpcode opcode, bool fin,
                                 absl::string_view payload,
                                 const WsMaskKey& key, std::string* out);

// Frames the link sends, each with a key from the caller's source.
class WsFrameEncoder {
 public:
  explicit WsFrameEncoder(WsMaskKeySource key_source);

  // One unfragmented binary message (the MQTT bytes of one or more packets).
  void AppendBinary(absl::string_view payload, std::string* out);

  // Any frame; see AppendWsClientFrame for the errors.
  absl::Status AppendFrame(WsOpcode opcode, bool fin, absl::string_view payload,
                           std::string* out);

  // Ping / pong with at most 125 bytes of payload (a pong answers a ping with
  // the ping's payload).
  absl::Status AppendPing(absl::string_view payload, std::string* out);
  absl::Status AppendPong(absl::string_view payload, std::string* out);

  // A close frame with `code` (IsValidWsCloseCode) and a UTF-8 `reason` of at
  // most 123 bytes; WS_PROTOCOL_ERROR otherwise.
  absl::Status AppendClose(uint16_t code, absl::string_view reason,
                           std::string* out);

 private:
  WsMaskKeySource key_source_;
};

// What the server sent: a whole data message, or one control frame.
struct WsMessage {
  // kText or kBinary for a data message (reassembled from its fragments),
  // kPing / kPong / kClose for a control frame. Never kContinuation.
  WsOpcode opcode = WsOpcode::kBinary;
  // The message's bytes; for kPing the bytes to echo in the pong; for kClose
  // the reason text (after the 2-byte code).
  std::string payload;
  // kClose only: the status code, absent when the close frame had no body.
  absl::optional<uint16_t> close_code;
};

// Decodes frames from the server, fed in chunks cut anywhere.
//
//   WsFrameDecoder decoder(max_message_size);
//   decoder.Feed(bytes);
//   while (true) {
//     auto next = decoder.Next();
//     if (!next.ok()) { /* close 1002 or 1009, drop the connection */ }
//     if (!next->has_value()) break;         // needs more bytes
//     switch ((*next)->opcode) { ... }       // ping: answer with AppendPong
//   }
//
// Enforced (WS_PROTOCOL_ERROR): RSV1-3 clear (no extensions are negotiated),
// known opcode, server frames unmasked, 64-bit lengths with the top bit clear,
// control frames with FIN and at most 125 bytes, a continuation only inside a
// fragmented message, no new data message before the last one ends, close
// payload of 0 or at least 2 bytes with a valid code and UTF-8 reason, text
// messages valid UTF-8. Lengths that do not use the shortest form are
// accepted. Control frames between the fragments of a message are returned as
// they come, ahead of the message. A data message over `max_message_size`
// (WS_MESSAGE_TOO_LARGE) is refused as soon as the frame header that pushes
// it over is in, before its payload arrives.
//
// After an error the decoder is broken: Next() returns the same error again
// and Feed() discards its input.
class WsFrameDecoder {
 public:
  explicit WsFrameDecoder(size_t max_message_size);

  WsFrameDecoder(const WsFrameDecoder&) = delete;
  WsFrameDecoder& operator=(const WsFrameDecoder&) = delete;

  // Appends `bytes` to the pending input.
  void Feed(absl::string_view bytes);

  // The next message or control frame; nullopt when more bytes are needed.
  absl::StatusOr<absl::optional<WsMessage>> Next();

  // Bytes fed but not yet consumed as frames (a partial message's completed
  // fragments are not counted).
  size_t buffered_bytes() const { return buffer_.size(); }

 private:
  absl::Status Fail(absl::Status error);

  size_t max_message_size_;
  StreamBuffer buffer_;
  // A fragmented data message in progress.
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kBinary;
  std::string message_;
  absl::Status error_;
};

}  // namespace cloudlink::websocket

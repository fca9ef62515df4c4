#include "server/websocket/websocket_frame.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/error.h"
#include "server/common/utf8.h"

namespace cloudlink::websocket {
namespace {

absl::Status ProtocolError(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kWsProtocolError,
               sentence);
}

bool IsControl(WsOpcode opcode) {
  return (static_cast<uint8_t>(opcode) & 0x08) != 0;
}

bool IsKnownOpcode(uint8_t opcode) {
  return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

}  // namespace

size_t ApplyWsMask(char* data, size_t size, const WsMaskKey& key,
                   size_t phase) {
  phase &= 3;
  size_t i = 0;
  // Unaligned head, byte by byte.
  while (i < size && (reinterpret_cast<uintptr_t>(data + i) & 7) != 0) {
    data[i] ^= static_cast<char>(key[phase]);
    phase = (phase + 1) & 3;
    ++i;
  }
  if (size - i >= 8) {
    // The key repeated in memory order from `phase`; eight bytes keep the
    // phase unchanged, so one word serves the whole aligned middle.
    unsigned char pattern[8];
    for (size_t j = 0; j < 8; ++j) pattern[j] = key[(phase + j) & 3];
    uint64_t key_word;
    std::memcpy(&key_word, pattern, sizeof(key_word));
    for (; size - i >= 8; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, sizeof(word));
      word ^= key_word;
      std::memcpy(data + i, &word, sizeof(word));
    }
  }
  // Tail, byte by byte.
  for (; i < size; ++i) {
    data[i] ^= static_cast<char>(key[phase]);
    phase = (phase + 1) & 3;
  }
  return phase;
}

bool IsValidWsCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

absl::Status AppendWsClientFrame(WsOpcode opcode, bool fin,
                                 absl::string_view payload,
                                 const WsMaskKey& key, std::string* out) {
  const auto raw_opcode = static_cast<uint8_t>(opcode);
  if (!IsKnownOpcode(raw_opcode)) {
    return ProtocolError(
        absl::StrFormat("opcode 0x%X is reserved", raw_opcode));
  }
  if (IsControl(opcode)) {
    if (payload.size() > kWsMaxControlPayload) {
      return ProtocolError(absl::StrCat("control frame payload of ",
                                        payload.size(),
                                        " bytes exceeds 125 bytes"));
    }
    if (!fin) return ProtocolError("control frames cannot be fragmented");
  }
  char header[kWsMaxClientHeaderSize];
  size_t n = 0;
  header[n++] = static_cast<char>((fin ? 0x80 : 0) | raw_opcode);
  const uint64_t length = payload.size();
  if (length < 126) {
    header[n++] = static_cast<char>(0x80 | length);
  } else if (length <= 0xFFFF) {
    header[n++] = static_cast<char>(0x80 | 126);
    header[n++] = static_cast<char>(length >> 8);
    header[n++] = static_cast<char>(length);
  } else {
    header[n++] = static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      header[n++] = static_cast<char>(length >> shift);
    }
  }
  std::memcpy(header + n, key.data(), key.size());
  n += key.size();

  out->reserve(out->size() + n + payload.size());
  out->append(header, n);
  const size_t start = out->size();
  out->append(payload.data(), payload.size());
  ApplyWsMask(out->data() + start, payload.size(), key);
  return absl::OkStatus();
}

// --- WsFrameEncoder ---------------------------------------------------------

WsFrameEncoder::WsFrameEncoder(WsMaskKeySource key_source)
    : key_source_(std::move(key_source)) {}

void WsFrameEncoder::AppendBinary(absl::string_view payload, std::string* out) {
  // A binary data frame cannot fail the checks in AppendWsClientFrame.
  AppendWsClientFrame(WsOpcode::kBinary, true, payload, key_source_(), out)
      .IgnoreError();
}

absl::Status WsFrameEncoder::AppendFrame(WsOpcode opcode, bool fin,
                                         absl::string_view payload,
                                         std::string* out) {
  return AppendWsClientFrame(opcode, fin, payload, key_source_(), out);
}

absl::Status WsFrameEncoder::AppendPing(absl::string_view payload,
                                        std::string* out) {
  return AppendFrame(WsOpcode::kPing, true, payload, out);
}

absl::Status WsFrameEncoder::AppendPong(absl::string_view payload,
                                        std::string* out) {
  return AppendFrame(WsOpcode::kPong, true, payload, out);
}

absl::Status WsFrameEncoder::AppendClose(uint16_t code,
                                         absl::string_view reason,
                                         std::string* out) {
  if (!IsValidWsCloseCode(code)) {
    return ProtocolError(
        absl::StrCat("close code ", code, " may not be sent in a close frame"));
  }
  if (reason.size() > kWsMaxControlPayload - 2) {
    return ProtocolError(absl::StrCat("close reason of ", reason.size(),
                                      " bytes exceeds 123 bytes"));
  }
  if (!IsValidUtf8(reason)) {
    return ProtocolError("close reason is not valid UTF-8");
  }
  char body[kWsMaxControlPayload];
  body[0] = static_cast<char>(code >> 8);
  body[1] = static_cast<char>(code);
  std::memcpy(body + 2, reason.data(), reason.size());
  return AppendFrame(WsOpcode::kClose, true,
                     absl::string_view(body, 2 + reason.size()), out);
}

// --- WsFrameDecoder ---------------------------------------------------------

WsFrameDecoder::WsFrameDecoder(size_t max_message_size)
    : max_message_size_(max_message_size) {}

void WsFrameDecoder::Feed(absl::string_view bytes) {
  if (!error_.ok()) return;
  buffer_.Append(bytes);
}

absl::Status WsFrameDecoder::Fail(absl::Status error) {
  error_ = std::move(error);
  message_.clear();
  return error_;
}

absl::StatusOr<absl::optional<WsMessage>> WsFrameDecoder::Next() {
  if (!error_.ok()) return error_;
  while (true) {
    const absl::string_view pending = buffer_.pending();
    if (pending.size() < 2) return absl::optional<WsMessage>();
    const auto b0 = static_cast<uint8_t>(pending[0]);
    const auto b1 = static_cast<uint8_t>(pending[1]);
    const bool fin = (b0 & 0x80) != 0;
    const uint8_t raw_opcode = b0 & 0x0F;
    const auto opcode = static_cast<WsOpcode>(raw_opcode);

    if ((b0 & 0x70) != 0) {
      return Fail(ProtocolError(absl::StrFormat(
          "frame has reserved bits 0x%02X set without an extension",
          b0 & 0x70)));
    }
    if (!IsKnownOpcode(raw_opcode)) {
      return Fail(ProtocolError(
          absl::StrFormat("frame has reserved opcode 0x%X", raw_opcode)));
    }
    if ((b1 & 0x80) != 0) {
      return Fail(ProtocolError("server frame is masked"));
    }
    const uint8_t length7 = b1 & 0x7F;
    if (IsControl(opcode)) {
      if (!fin) return Fail(ProtocolError("control frame is fragmented"));
      if (length7 > kWsMaxControlPayload) {
        return Fail(ProtocolError("control frame payload exceeds 125 bytes"));
      }
    } else if (opcode == WsOpcode::kContinuation) {
      if (!in_message_) {
        return Fail(ProtocolError("continuation frame outside a message"));
      }
    } else if (in_message_) {
      return Fail(
          ProtocolError("new data frame before the fragmented message ended"));
    }

    size_t header_size = 2;
    uint64_t length = length7;
    if (length7 == 126) {
      header_size = 4;
      if (pending.size() < header_size) return absl::optional<WsMessage>();
      length = (uint64_t{static_cast<uint8_t>(pending[2])} << 8) |
               static_cast<uint8_t>(pending[3]);
    } else if (length7 == 127) {
      header_size = 10;
      if (pending.size() < header_size) return absl::optional<WsMessage>();
      length = 0;
      for (size_t i = 2; i < 10; ++i) {
        length = (length << 8) | static_cast<uint8_t>(pending[i]);
      }
      if ((length >> 63) != 0) {
        return Fail(ProtocolError("64-bit payload length has the top bit set"));
      }
    }
    if (!IsControl(opcode)) {
      const uint64_t so_far = in_message_ ? message_.size() : 0;
      if (length > max_message_size_ || so_far + length > max_message_size_) {
        return Fail(Error(absl::StatusCode::kInvalidArgument,
                          reason::kWsMessageTooLarge,
                          absl::StrCat("message of at least ", so_far + length,
                                       " bytes exceeds the maximum of ",
                                       max_message_size_, " bytes")));
      }
    }
    if (pending.size() - header_size < length) {
      return absl::optional<WsMessage>();
    }
    const absl::string_view payload =
        pending.substr(header_size, static_cast<size_t>(length));
    buffer_.Consume(header_size + static_cast<size_t>(length));

    if (IsControl(opcode)) {
      WsMessage control;
      control.opcode = opcode;
      if (opcode == WsOpcode::kClose && !payload.empty()) {
        if (payload.size() < 2) {
          return Fail(ProtocolError("close frame body of 1 byte"));
        }
        const uint16_t code =
            static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                  static_cast<uint8_t>(payload[1]));
        if (!IsValidWsCloseCode(code)) {
          return Fail(ProtocolError(
              absl::StrCat("close frame has invalid status code ", code)));
        }
        const absl::string_view reason = payload.substr(2);
        if (!IsValidUtf8(reason)) {
          return Fail(ProtocolError("close reason is not valid UTF-8"));
        }
        control.close_code = code;
        control.payload = std::string(reason);
      } else {
        control.payload = std::string(payload);
      }
      return absl::optional<WsMessage>(std::move(control));
    }

    WsMessage message;
    if (!in_message_ && fin) {
      message.opcode = opcode;
      message.payload = std::string(payload);
    } else {
      if (!in_message_) {
        in_message_ = true;
        message_opcode_ = opcode;
        message_.clear();
      }
      message_.append(payload.data(), payload.size());
      if (!fin) continue;  // wait for the rest of the message
      in_message_ = false;
      message.opcode = message_opcode_;
      message.payload = std::move(message_);
      message_.clear();
    }
    if (message.opcode == WsOpcode::kText && !IsValidUtf8(message.payload)) {
      return Fail(ProtocolError("text message is not valid UTF-8"));
    }
    return absl::optional<WsMessage>(std::move(message));
  }
}

}  // namespace cloudlink::websocket

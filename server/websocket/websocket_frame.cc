#include "server/websocket/websocket_frame.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/error.h"

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

}  // namespace cloudlink::websocket

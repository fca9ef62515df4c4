#include "server/mqtt/mqtt_wire.h"

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/status_macros.h"
#include "server/common/utf8.h"

namespace cloudlink::mqtt::internal {

absl::Status Malformed(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kMqttMalformed,
               sentence);
}

absl::Status ProtocolError(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kMqttProtocolError,
               sentence);
}

absl::Status TooLarge(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kMqttPacketTooLarge,
               sentence);
}

absl::Status CheckQos(uint8_t qos, const char* what) {
  if (qos > 2)
    return Malformed(absl::StrCat(what, " QoS ", qos, " is not 0, 1 or 2"));
  return absl::OkStatus();
}

absl::Status Reader::Byte(const char* field, uint8_t* value) {
  if (data_.empty()) return Truncated(field);
  *value = static_cast<uint8_t>(data_[0]);
  data_.remove_prefix(1);
  return absl::OkStatus();
}

absl::Status Reader::U16(const char* field, uint16_t* value) {
  if (data_.size() < 2) return Truncated(field);
  *value = static_cast<uint16_t>((At(0) << 8) | At(1));
  data_.remove_prefix(2);
  return absl::OkStatus();
}

absl::Status Reader::U32(const char* field, uint32_t* value) {
  if (data_.size() < 4) return Truncated(field);
  *value = (static_cast<uint32_t>(At(0)) << 24) |
           (static_cast<uint32_t>(At(1)) << 16) |
           (static_cast<uint32_t>(At(2)) << 8) | At(3);
  data_.remove_prefix(4);
  return absl::OkStatus();
}

absl::Status Reader::Vbi(const char* field, uint32_t* value) {
  uint32_t result = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (i >= data_.size()) return Truncated(field);
    const uint8_t digit = At(i);
    result |= static_cast<uint32_t>(digit & 0x7F) << (7 * i);
    if ((digit & 0x80) == 0) {
      data_.remove_prefix(i + 1);
      *value = result;
      return absl::OkStatus();
    }
  }
  return Malformed(absl::StrCat(field, " in ", packet_,
                                " is a Variable Byte Integer longer than 4 "
                                "bytes"));
}

absl::Status Reader::Binary(const char* field, absl::string_view* value) {
  uint16_t length = 0;
  RETURN_IF_ERROR(U16(field, &length));
  if (data_.size() < length) return Truncated(field);
  *value = data_.substr(0, length);
  data_.remove_prefix(length);
  return absl::OkStatus();
}

absl::Status Reader::Utf8(const char* field, absl::string_view* value) {
  RETURN_IF_ERROR(Binary(field, value));
  if (!IsValidMqttUtf8(*value)) {
    return Malformed(absl::StrCat(field, " in ", packet_,
                                  " is not valid UTF-8 (or contains "
                                  "U+0000)"));
  }
  return absl::OkStatus();
}

absl::Status Reader::Take(const char* field, size_t length, Reader* part) {
  if (data_.size() < length) return Truncated(field);
  *part = Reader(data_.substr(0, length), packet_);
  data_.remove_prefix(length);
  return absl::OkStatus();
}

absl::string_view Reader::Rest() {
  absl::string_view rest = data_;
  data_ = absl::string_view();
  return rest;
}

absl::Status Reader::ExpectEnd() const {
  if (data_.empty()) return absl::OkStatus();
  return Malformed(absl::StrCat(packet_, " has ", data_.size(),
                                " unexpected bytes after its last field"));
}

absl::Status Reader::Truncated(const char* field) const {
  return Malformed(absl::StrCat("truncated ", field, " in ", packet_));
}

}  // namespace cloudlink::mqtt::internal

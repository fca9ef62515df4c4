#pragma once

// Internal to server/mqtt: the MQTT 5.0 wire primitives the encoder and the
// decoder share (section 1.5 data representation): big-endian integers,
// Variable Byte Integers, length-prefixed strings and binary data, and the
// errors both sides report.
//
// Writing goes through a Sink, one of two classes with the same methods: a
// SizeCounter that only adds up lengths (and notes fields that cannot be
// represented), and an Appender that writes into a std::string. The encoder
// runs each packet body through both (see mqtt_encoder.cc).
//
// Reading goes through a Reader over one packet body; every read checks the
// bytes left first and fails MQTT_MALFORMED naming the field and packet.
//
// Thread-safety: plain values, one thread at a time.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::mqtt::internal {

inline constexpr size_t kMaxFieldLength = kMqttMaxFieldLength;
inline constexpr uint32_t kMaxVbi = kMqttMaxRemainingLength;

// INVALID_ARGUMENT statuses with the reasons of mqtt_encoder.h and
// mqtt_decoder.h.
absl::Status Malformed(absl::string_view sentence);      // MQTT_MALFORMED
absl::Status ProtocolError(absl::string_view sentence);  // MQTT_PROTOCOL_ERROR
absl::Status TooLarge(absl::string_view sentence);  // MQTT_PACKET_TOO_LARGE

// MQTT_MALFORMED naming `what` unless `qos` is 0, 1 or 2.
absl::Status CheckQos(uint8_t qos, const char* what);

// The number of bytes (1..4) `value` takes as a Variable Byte Integer.
inline size_t VbiSize(uint32_t value) {
  if (value < 128) return 1;
  if (value < 16384) return 2;
  if (value < 2097152) return 3;
  return 4;
}

// Writes `value` (at most kMaxVbi) as a Variable Byte Integer at `at`, which
// has room for 4 bytes; returns the number of bytes written (1..4).
inline size_t PutVbi(uint32_t value, char* at) {
  size_t n = 0;
  do {
    uint8_t digit = value & 0x7F;
    value >>= 7;
    if (value != 0) digit |= 0x80;
    at[n++] = static_cast<char>(digit);
  } while (value != 0 && n < 4);
  return n;
}

// A Sink that adds up the bytes a packet body takes.
class SizeCounter {
 public:
  void Byte(uint8_t) { size_ += 1; }
  void U16(uint16_t) { size_ += 2; }
  void U32(uint32_t) { size_ += 4; }
  void Vbi(uint32_t value) {
    if (value > kMaxVbi) vbi_too_large_ = true;
    size_ += VbiSize(value);
  }
  // A two-byte length followed by the bytes (UTF-8 string or binary data).
  void Field(absl::string_view bytes) {
    if (bytes.size() > kMaxFieldLength) field_too_long_ = true;
    size_ += 2 + bytes.size();
  }
  void Raw(absl::string_view bytes) { size_ += bytes.size(); }

  size_t size() const { return size_; }
  // A Field was over kMaxFieldLength bytes.
  bool field_too_long() const { return field_too_long_; }
  // A Vbi was over kMaxVbi.
  bool vbi_too_large() const { return vbi_too_large_; }

 private:
  size_t size_ = 0;
  bool field_too_long_ = false;
  bool vbi_too_large_ = false;
};

// A Sink that appends to a string. It trusts the SizeCounter run before it:
// an over-long Field or Vbi is written truncated.
class Appender {
 public:
  explicit Appender(std::string* out) : out_(out) {}
  void Byte(uint8_t value) { out_->push_back(static_cast<char>(value)); }
  void U16(uint16_t value) {
    const char bytes[2] = {static_cast<char>(value >> 8),
                           static_cast<char>(value)};
    out_->append(bytes, 2);
  }
  void U32(uint32_t value) {
    const char bytes[4] = {
        static_cast<char>(value >> 24), static_cast<char>(value >> 16),
        static_cast<char>(value >> 8), static_cast<char>(value)};
    out_->append(bytes, 4);
  }
  void Vbi(uint32_t value) {
    char bytes[4];
    out_->append(bytes, PutVbi(value, bytes));
  }
  void Field(absl::string_view bytes) {
    U16(static_cast<uint16_t>(bytes.size()));
    out_->append(bytes.data(), bytes.size());
  }
  void Raw(absl::string_view bytes) {
    out_->append(bytes.data(), bytes.size());
  }

 private:
  std::string* out_;
};

// Reads the fields of one packet body, front to back. `field` names what is
// read in error sentences; `packet` ("PUBLISH", ...) names the packet. Views
// returned point into the body.
class Reader {
 public:
  Reader(absl::string_view data, const char* packet)
      : data_(data), packet_(packet) {}

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  const char* packet() const { return packet_; }

  absl::Status Byte(const char* field, uint8_t* value);
  absl::Status U16(const char* field, uint16_t* value);
  absl::Status U32(const char* field, uint32_t* value);
  // A Variable Byte Integer of at most 4 bytes.
  absl::Status Vbi(const char* field, uint32_t* value);
  // Binary Data: two-byte length, then the bytes.
  absl::Status Binary(const char* field, absl::string_view* value);
  // UTF-8 Encoded String: Binary Data that must be valid MQTT UTF-8 (no
  // U+0000, no surrogates, nothing over U+10FFFF, no overlong forms).
  absl::Status Utf8(const char* field, absl::string_view* value);
  // Splits off the next `length` bytes as their own reader.
  absl::Status Take(const char* field, size_t length, Reader* part);
  // Everything left; the reader is empty afterwards.
  absl::string_view Rest();
  // MQTT_MALFORMED unless every byte was read.
  absl::Status ExpectEnd() const;
  // MQTT_MALFORMED "truncated <field> in <packet>".
  absl::Status Truncated(const char* field) const;

 private:
  uint8_t At(size_t i) const { return static_cast<uint8_t>(data_[i]); }

  absl::string_view data_;
  const char* packet_;
};

}  // namespace cloudlink::mqtt::internal

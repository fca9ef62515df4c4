#pragma once

// Splits one fuzz input into the several values a target needs, the same way
// on every run, so an input file replays exactly (libFuzzer's
// FuzzedDataProvider is not available to gcc builds).
//
//   FuzzInput in(data, size);
//   uint8_t mode = in.Byte();          // 0 when the input is used up
//   std::string host = in.Field();     // up to the next '\n' (consumed)
//   std::string body = in.Rest();      // everything left
//
// Seeds are written by hand in this layout: a few leading control bytes, then
// '\n'-separated fields, then the rest. A plain value; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  // The next byte, or 0 when none is left.
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    uint8_t b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  // The next two bytes, big-endian (missing bytes read as 0).
  uint16_t Uint16() {
    uint16_t high = Byte();
    return static_cast<uint16_t>((high << 8) | Byte());
  }

  // The bytes up to the next '\n' (not included; the '\n' is consumed), or
  // everything left when there is none.
  std::string Field() {
    size_t end = rest_.find('\n');
    std::string field(rest_.substr(0, end));
    rest_.remove_prefix(end == absl::string_view::npos ? rest_.size()
                                                       : end + 1);
    return field;
  }

  // Everything not consumed yet; the input is used up afterwards.
  std::string Rest() {
    std::string all(rest_);
    rest_ = absl::string_view();
    return all;
  }

  absl::string_view remaining() const { return rest_; }

 private:
  absl::string_view rest_;
};

}  // namespace cloudlink::fuzz

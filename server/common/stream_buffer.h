#pragma once

// StreamBuffer: bytes received from a stream and not yet decoded, for the
// incremental decoders (MQTT packets, WebSocket frames). Append what
// arrives, look at pending(), Consume() what was decoded.
//
// Consumed bytes are dropped lazily, by Append, once they are at least half
// the buffer, so the buffer stays within about twice the pending input
// without copying on every packet. Not thread-safe.

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink {

class StreamBuffer {
 public:
  void Append(absl::string_view bytes) {
    if (read_pos_ == buffer_.size()) {
      buffer_.clear();
      read_pos_ = 0;
    } else if (read_pos_ > 0 && read_pos_ >= buffer_.size() / 2) {
      buffer_.erase(0, read_pos_);
      read_pos_ = 0;
    }
    buffer_.append(bytes.data(), bytes.size());
  }

  // The bytes not consumed yet. The view (and views into it) stay valid
  // until the next Append, even across Consume.
  absl::string_view pending() const {
    return absl::string_view(buffer_).substr(read_pos_);
  }
  size_t size() const { return buffer_.size() - read_pos_; }
  // Bytes held, consumed ones not yet dropped included.
  size_t held_bytes() const { return buffer_.size(); }

  // Marks the first `n` pending bytes (n <= size()) as decoded.
  void Consume(size_t n) { read_pos_ += n; }

 private:
  std::string buffer_;
  size_t read_pos_ = 0;
};

}  // namespace cloudlink

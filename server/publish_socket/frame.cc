#include "server/publish_socket/frame.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::publish_socket {

void AppendFrame(const google::protobuf::MessageLite& message,
                 std::string* out) {
  const size_t size = message.ByteSizeLong();
  const size_t at = out->size();
  out->resize(at + kFrameHeaderBytes + size);
  char* p = &(*out)[at];
  p[0] = static_cast<char>((size >> 24) & 0xff);
  p[1] = static_cast<char>((size >> 16) & 0xff);
  p[2] = static_cast<char>((size >> 8) & 0xff);
  p[3] = static_cast<char>(size & 0xff);
  message.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(p + kFrameHeaderBytes));
}

void FrameReader::Append(absl::string_view bytes) {
  char* to = Reserve(bytes.size());
  bytes.copy(to, bytes.size());
  Commit(bytes.size());
}

char* FrameReader::Reserve(size_t n) {
  if (start_ > 0 && (start_ == end_ || start_ >= end_ / 2)) {
    // Drop what was returned, so the buffer does not grow with the stream.
    memmove(buffer_.get(), buffer_.get() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (end_ + n > capacity_) {
    const size_t capacity = std::max(end_ + n, 2 * capacity_);
    std::unique_ptr<char[]> grown(new char[capacity]);  // not cleared
    if (end_ > 0) memcpy(grown.get(), buffer_.get(), end_);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }
  reserved_ = end_;
  return buffer_.get() + end_;
}

void FrameReader::Commit(size_t n) { end_ = reserved_ + n; }

absl::StatusOr<absl::optional<absl::string_view>> FrameReader::Next() {
  const size_t have = end_ - start_;
  if (have < kFrameHeaderBytes) return absl::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(&buffer_[start_]);
  const size_t size = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) |
                      (size_t{p[2]} << 8) | size_t{p[3]};
  if (size > max_frame_bytes_) {
    return Error(absl::StatusCode::kResourceExhausted, reason::kFrameTooLarge,
                 absl::StrCat("a frame of ", size, " bytes is over the ",
                              max_frame_bytes_,
                              "-byte limit (or the peer does not speak the "
                              "publish socket's protocol)"));
  }
  if (have - kFrameHeaderBytes < size) return absl::nullopt;
  absl::string_view body(&buffer_[start_ + kFrameHeaderBytes], size);
  start_ += kFrameHeaderBytes + size;
  return absl::optional<absl::string_view>(body);
}

}  // namespace cloudlink::publish_socket

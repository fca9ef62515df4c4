#pragma once

// The frames of the publish socket: a 4-byte big-endian length, then that
// many bytes, one serialized protobuf message (cloudlink.proto,
// PublishSocketHello). Both ends use this: cloudlinkd and the producer
// library.
//
//   std::string out;
//   AppendFrame(request, &out);            // then write `out`
//
//   FrameReader reader;
//   reader.Append(bytes_read);
//   while (true) {
//     absl::StatusOr<absl::optional<absl::string_view>> frame = reader.Next();
//     if (!frame.ok()) ...                 // too large: the stream is broken
//     if (!frame->has_value()) break;      // needs more bytes
//     Parse(**frame);                      // valid until the next Append/Next
//   }

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/message_lite.h"

namespace cloudlink::publish_socket {

// The largest frame body: gRPC's default message limit, so that a request
// the Publish RPC takes, the socket takes too.
inline constexpr size_t kMaxFrameBytes = size_t{4} << 20;
inline constexpr size_t kFrameHeaderBytes = 4;

// Appends `message` as one frame to `out`. The caller keeps messages under
// kMaxFrameBytes (the reader refuses larger ones).
void AppendFrame(const google::protobuf::MessageLite& message,
                 std::string* out);

// Cuts a byte stream into frame bodies, however the bytes were split.
class FrameReader {
 public:
  explicit FrameReader(size_t max_frame_bytes = kMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // Adds bytes read from the peer.
  void Append(absl::string_view bytes);
  // Room for a read of up to `n` bytes straight into the buffer; then
  // Commit(bytes actually read). Saves a copy per read, and the room is not
  // cleared first: a 64 KiB read that brings one small frame costs no
  // 64 KiB memset.
  char* Reserve(size_t n);
  void Commit(size_t n);

  // The next complete frame's body (valid until the next call on this
  // reader), nullopt when more bytes are needed, or RESOURCE_EXHAUSTED
  // FRAME_TOO_LARGE when the header announces more than max_frame_bytes
  // (the stream cannot be resynchronised; every later call says so too).
  absl::StatusOr<absl::optional<absl::string_view>> Next();

  // Bytes held that are not yet part of a returned frame.
  size_t buffered() const { return end_ - start_; }

 private:
  const size_t max_frame_bytes_;
  std::unique_ptr<char[]> buffer_;  // capacity_ bytes, [0, end_) filled
  size_t capacity_ = 0;
  size_t end_ = 0;
  size_t start_ = 0;     // first byte not yet returned
  size_t reserved_ = 0;  // end_ before the last Reserve
};

}  // namespace cloudlink::publish_socket

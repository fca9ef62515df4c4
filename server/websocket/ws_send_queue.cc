#include "server/websocket/ws_send_queue.h"

#include <algorithm>
#include <utility>

namespace cloudlink::websocket {

WsSendQueue::WsSendQueue(WsMaskKeySource key_source, size_t max_frame_payload)
    : encoder_(std::move(key_source)),
      max_frame_payload_(std::max<size_t>(1, max_frame_payload)) {}

void WsSendQueue::Append(absl::string_view bytes) {
  queued_.append(bytes.data(), bytes.size());
}

size_t WsSendQueue::TakeFrame(std::string* out) {
  const size_t n = std::min(pending_bytes(), max_frame_payload_);
  if (n == 0) return 0;
  encoder_.AppendBinary(absl::string_view(queued_).substr(taken_, n), out);
  taken_ += n;
  // Drop what was taken once it is the larger part, so appends stay cheap
  // and the buffer does not grow without bound under steady load.
  if (taken_ == queued_.size()) {
    queued_.clear();
    taken_ = 0;
  } else if (taken_ > queued_.size() / 2) {
    queued_.erase(0, taken_);
    taken_ = 0;
  }
  return n;
}

}  // namespace cloudlink::websocket

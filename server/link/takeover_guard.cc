#include "server/link/takeover_guard.h"

#include <algorithm>

namespace cloudlink::link {

bool TakeoverGuard::OnTakenOver(MonotonicTime now) {
  recent_.push_back(now);
  while (!recent_.empty() && now - recent_.front() > params_.window) {
    recent_.pop_front();
  }
  if (repeated_) {
    delay_ = std::min(delay_ * 2, params_.max_delay);
    return true;
  }
  if (static_cast<int>(recent_.size()) >= params_.takeovers) {
    repeated_ = true;
    delay_ = params_.min_delay;
  }
  return repeated_;
}

void TakeoverGuard::OnOtherEnd(absl::Duration online) {
  if (online >= params_.max_delay) Reset();
}

void TakeoverGuard::Reset() {
  recent_.clear();
  repeated_ = false;
  delay_ = absl::ZeroDuration();
}

}  // namespace cloudlink::link

#include "server/common/notification.h"

namespace cloudlink {

void Notification::Notify() {
  MutexLock lock(&mu_);
  notified_ = true;
}

bool Notification::HasBeenNotified() const {
  MutexLock lock(&mu_);
  return notified_;
}

void Notification::WaitForNotification() const {
  MutexLock lock(&mu_);
  mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return notified_; });
}

bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return notified_; },
      timeout);
}

}  // namespace cloudlink

#pragma once

// Notification: a one-shot event, as absl::Notification, on cloudlink::Mutex
// so that ThreadSanitizer sees the hand-over (see mutex.h for why).
//
// Notify() may be called once; waiters return as soon as it has been.
// Thread-safe.

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "server/common/mutex.h"

namespace cloudlink {

class Notification {
 public:
  Notification() = default;
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  void Notify();
  bool HasBeenNotified() const;
  void WaitForNotification() const;
  // Returns whether Notify() was called within `timeout`.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const;

 private:
  mutable Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cloudlink

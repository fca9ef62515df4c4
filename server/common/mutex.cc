#include "server/common/mutex.h"

#include <algorithm>
#include <chrono>

#include "absl/time/clock.h"

namespace cloudlink {

void Mutex::Lock() { mu_.lock(); }

void Mutex::Unlock() {
  const bool wake = waiters_ > 0;
  mu_.unlock();
  if (wake) released_.notify_all();
}

void Mutex::Await(absl::FunctionRef<bool()> cond) {
  if (cond()) return;
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  ++waiters_;
  while (!cond()) released_.wait(lock);
  --waiters_;
  lock.release();  // still held; the caller unlocks
}

bool Mutex::AwaitWithTimeout(absl::FunctionRef<bool()> cond,
                             absl::Duration timeout) {
  if (cond()) return true;
  // An infinite timeout (InfiniteFuture() deadlines) would overflow the
  // steady clock; a century is forever enough.
  const absl::Duration wait =
      std::clamp(timeout, absl::ZeroDuration(), absl::Hours(24 * 365 * 100));
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(wait);
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  ++waiters_;
  bool met = false;
  while (!(met = cond())) {
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout) {
      met = cond();
      break;
    }
  }
  --waiters_;
  lock.release();
  return met;
}

bool Mutex::AwaitWithDeadline(absl::FunctionRef<bool()> cond,
                              absl::Time deadline) {
  return AwaitWithTimeout(cond, deadline - absl::Now());
}

}  // namespace cloudlink

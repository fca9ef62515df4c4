#include "server/common/mutex.h"

#include <algorithm>
#include <chrono>

namespace cloudlink {

void Mutex::Lock() { mu_.lock(); }

void Mutex::Unlock() {
  // Notify before unlocking: a waiter that wakes may destroy this Mutex (the
  // object that holds it) as soon as it can lock, and a notify after unlock
  // would then touch freed memory.
  if (waiters_ > 0) released_.notify_all();
  mu_.unlock();
}

void Mutex::StartWaitLocked() {
  // Waiting releases the mutex, which counts as an Unlock(): this thread may
  // have changed guarded state before calling Await, so threads already
  // waiting must re-check. Only this first release wakes them; the re-waits
  // after a wake-up follow nothing but condition checks, which change
  // nothing, so waiters never wake each other in a loop.
  if (waiters_ > 0) released_.notify_all();
  ++waiters_;
}

void Mutex::Await(absl::FunctionRef<bool()> cond) {
  if (cond()) return;
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  StartWaitLocked();
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
  StartWaitLocked();
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
                              MonotonicTime deadline) {
  // RealClock()'s monotonic time is the steady clock's.
  return AwaitWithTimeout(cond, deadline - RealClock()->MonotonicNow());
}

}  // namespace cloudlink

#include "server/common/mutex.h"

#include <algorithm>
#include <chrono>

namespace cloudlink {

void Mutex::Lock() { mu_.lock(); }

void Mutex::SignalLocked() {
  for (Waiter* w = waiters_; w != nullptr; w = w->next) {
    if (!w->signalled && w->cond()) {
      w->signalled = true;
      w->woken.notify_one();
    }
  }
}

void Mutex::Unlock() {
  // Signal before unlocking: a waiter that wakes may destroy this Mutex (the
  // object that holds it) as soon as it can lock, and touching it after the
  // unlock would then touch freed memory.
  if (waiters_ != nullptr) SignalLocked();
  mu_.unlock();
}

bool Mutex::WaitLocked(Waiter* w,
                       const std::chrono::steady_clock::time_point* deadline) {
  // Waiting releases the mutex, which counts as an Unlock(): this thread may
  // have changed guarded state before calling Await, so the threads already
  // waiting get their conditions evaluated now.
  if (waiters_ != nullptr) SignalLocked();
  w->next = waiters_;
  if (waiters_ != nullptr) waiters_->prev = w;
  waiters_ = w;
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  bool met = false;
  while (true) {
    // `signalled` was set under the lock by a thread that saw the condition
    // hold; another thread may have changed the state again since, so the
    // condition is re-checked here.
    if (w->signalled) {
      w->signalled = false;
      if ((met = w->cond())) break;
    }
    if (deadline == nullptr) {
      w->woken.wait(lock);
    } else if (w->woken.wait_until(lock, *deadline) ==
               std::cv_status::timeout) {
      met = w->cond();
      break;
    }
  }
  if (w->prev != nullptr) w->prev->next = w->next;
  if (w->next != nullptr) w->next->prev = w->prev;
  if (waiters_ == w) waiters_ = w->next;
  lock.release();  // still held; the caller unlocks
  return met;
}

void Mutex::Await(absl::FunctionRef<bool()> cond) {
  if (cond()) return;
  Waiter w(cond);
  WaitLocked(&w, nullptr);
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
  Waiter w(cond);
  return WaitLocked(&w, &deadline);
}

bool Mutex::AwaitWithDeadline(absl::FunctionRef<bool()> cond,
                              MonotonicTime deadline) {
  // RealClock()'s monotonic time is the steady clock's.
  return AwaitWithTimeout(cond, deadline - RealClock()->MonotonicNow());
}

}  // namespace cloudlink

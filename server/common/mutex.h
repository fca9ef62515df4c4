#pragma once

// Mutex: absl::Mutex's contract, built on std::mutex and
// std::condition_variable so that ThreadSanitizer sees every lock.
//
// Debian's Abseil is not compiled with -fsanitize=thread, so absl::Mutex
// locks and unlocks in code TSan cannot see: every access it guards looks
// like a data race. This class keeps the parts of absl::Mutex cloudlink uses
// (exclusive locking, the thread-safety annotations, and conditional
// critical sections) on primitives TSan intercepts.
//
// Conditional critical sections work as in Abseil: Await(cond) returns once
// cond() holds, re-checking it after every Unlock() by any thread. Code that
// changes guarded state therefore never signals; unlocking is enough.
// Conditions run with the mutex held and must only read guarded state.
//
// As in Abseil, the thread that unlocks evaluates the waiters' conditions
// and wakes only those whose condition now holds: an unlock that changed
// nothing a waiter waits for wakes nobody, so a thread waiting for work is
// not woken by every unrelated critical section. Conditions therefore also
// run on other threads (always with the mutex held) and must be cheap and
// free of side effects.
//
// Thread-safe. Not reentrant; there are no reader locks.

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace cloudlink {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  // Releases the mutex. Evaluates the conditions of the threads blocked in
  // Await* and wakes those whose condition holds.
  void Unlock() ABSL_UNLOCK_FUNCTION();

  // Blocks, releasing the mutex while it waits, until cond() is true. Returns
  // with the mutex held.
  void Await(absl::FunctionRef<bool()> cond)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  // As Await, but gives up at `deadline` or after `timeout`, both measured on
  // the monotonic clock (std::chrono::steady_clock; `deadline` is a
  // RealClock()->MonotonicNow() reading), so wall-clock steps neither
  // stretch nor cut a wait. Returns cond() as evaluated last, with the mutex
  // held either way. Code on an injected Clock converts its deadline to a
  // timeout: AwaitWithTimeout(cond, deadline - clock->MonotonicNow()).
  bool AwaitWithDeadline(absl::FunctionRef<bool()> cond, MonotonicTime deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  bool AwaitWithTimeout(absl::FunctionRef<bool()> cond, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

  // The same, waiting for a guarded flag to become true.
  void Await(const bool* flag) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    Await([flag] { return *flag; });
  }
  bool AwaitWithTimeout(const bool* flag, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    return AwaitWithTimeout([flag] { return *flag; }, timeout);
  }
  bool AwaitWithDeadline(const bool* flag, MonotonicTime deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    return AwaitWithDeadline([flag] { return *flag; }, deadline);
  }

 private:
  // A thread blocked in Await*, on its own stack while it waits.
  struct Waiter {
    explicit Waiter(absl::FunctionRef<bool()> c) : cond(c) {}
    absl::FunctionRef<bool()> cond;
    std::condition_variable woken;
    bool signalled = false;  // its condition held at an unlock
    Waiter* next = nullptr;
    Waiter* prev = nullptr;
  };
  // Wakes the waiters whose condition holds (mu_ held).
  void SignalLocked();
  // Blocks on `w` until its condition holds or `deadline` passes (see .cc).
  bool WaitLocked(Waiter* w,
                  const std::chrono::steady_clock::time_point* deadline);

  std::mutex mu_;
  Waiter* waiters_ = nullptr;  // guarded by mu_
};

// Holds a Mutex for its scope, as absl::MutexLock.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  Mutex* const mu_;
};

}  // namespace cloudlink

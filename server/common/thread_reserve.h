#pragma once

// Task slots held for a library that aborts when the system refuses it a
// thread. gRPC 1.51's synchronous server asserts that it could start its
// first poller thread (grpc::ThreadManager::Initialize), so building a gRPC
// server under an exhausted task limit (a pids cgroup such as systemd's
// TasksMax, RLIMIT_NPROC) ends the process. A ThreadReserve holds `n` parked
// threads of ours (no timeout: they never wake) while the slots are
// available, and gives them back right before the library needs them.
//
// Release waits until the kernel has really given the slots back: a joined
// thread is still counted (pids cgroup, RLIMIT_NPROC) until the kernel
// releases it, a moment after pthread_join returns. It watches the
// process's own thread count (/proc/self/status "Threads:"), which the
// kernel lowers after both.
//
// The slots are free again for the whole process: a thread another part of
// the daemon starts in the same instant may take one. Holding more than the
// library needs leaves a margin for that.

#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/mutex.h"

namespace cloudlink {

class ThreadReserve {
 public:
  // Starts `n` parked threads. RESOURCE_EXHAUSTED, holding nothing, when the
  // system refuses one of them.
  static absl::StatusOr<std::unique_ptr<ThreadReserve>> Hold(int n);

  // Ends and joins the threads, then waits (at most `limit`) until the
  // process's thread count shows them released. Idempotent. False when the
  // count did not drop within `limit` (the slots may still be counted).
  bool Release(absl::Duration limit = absl::Seconds(1));
  ~ThreadReserve();

  int size() const { return static_cast<int>(threads_.size()); }

  ThreadReserve(const ThreadReserve&) = delete;
  ThreadReserve& operator=(const ThreadReserve&) = delete;

 private:
  ThreadReserve() = default;

  Mutex mu_;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// This process's thread count (/proc/self/status "Threads:"), or -1.
int ProcessThreadCount();

}  // namespace cloudlink

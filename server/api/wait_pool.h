#pragma once

// Threads for jobs that block for long, off gRPC's threads: a Publish
// request whose message waits for room in a full queue or spool.
//
// Up to `max_kept_threads` threads are started on demand and then kept,
// parked on a condition that only a new job (or the destructor) satisfies,
// so an idle pool never wakes. A job that finds every kept thread busy runs
// on a thread of its own that ends with it: a job never queues behind
// another, so each waiting request keeps observing its own deadline and
// cancellation. The number of such extra threads is bounded by what starts
// jobs (the API admits a bounded number of streams, and a stream has at
// most one request waiting).
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "server/common/mutex.h"

namespace cloudlink::api {

class WaitPool {
 public:
  static constexpr size_t kDefaultKeptThreads = 4;

  explicit WaitPool(size_t max_kept_threads = kDefaultKeptThreads);
  // Ends the kept threads once their jobs returned. Jobs on extra threads
  // must not use the pool; the caller makes sure every job ended (the
  // Publish streams do: a call ends only after its waiting request).
  ~WaitPool();
  WaitPool(const WaitPool&) = delete;
  WaitPool& operator=(const WaitPool&) = delete;

  // Runs `job` on a parked kept thread, a new kept thread, or an extra
  // thread of its own (see above). Returns false when no thread could be
  // started; `job` then did not run and the caller runs it another way.
  bool Run(std::function<void()> job);

  // Threads started since construction, kept and extra, and kept threads
  // parked now (for tests).
  uint64_t threads_started() const;
  size_t parked() const;

 private:
  void Loop(std::function<void()> first);

  const size_t max_kept_;
  mutable Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  size_t parked_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t started_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cloudlink::api

#include "server/common/thread_reserve.h"

#include <pthread.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/common/thread_start.h"

namespace cloudlink {

int ProcessThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "Threads:")) {
      int count = -1;
      return absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &count) ? count
                                                                        : -1;
    }
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<ThreadReserve>> ThreadReserve::Hold(int n) {
  std::unique_ptr<ThreadReserve> reserve(new ThreadReserve());
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<std::thread> thread = StartThread([r = reserve.get()] {
      MutexLock lock(&r->mu_);
      r->mu_.Await(&r->released_);
    });
    if (!thread.ok()) {
      reserve->Release(absl::ZeroDuration());
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot hold ", n, " threads (held ", i,
                       "): ", thread.status().message()));
    }
    // Named here, so that the name is there once Hold returns.
    pthread_setname_np(thread->native_handle(), "thread-reserve");
    reserve->threads_.push_back(*std::move(thread));
  }
  return reserve;
}

bool ThreadReserve::Release(absl::Duration limit) {
  const int before = ProcessThreadCount();
  {
    MutexLock lock(&mu_);
    if (released_ && threads_.empty()) return true;
    released_ = true;
  }
  const int held = static_cast<int>(threads_.size());
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  if (before < 0 || held == 0) return true;
  const absl::Time deadline = absl::Now() + limit;
  while (ProcessThreadCount() > before - held) {
    // The kernel releases an exited thread within microseconds of the join;
    // this waits only at a restart of what the reserve was for.
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Microseconds(200));
  }
  return true;
}

ThreadReserve::~ThreadReserve() { Release(absl::ZeroDuration()); }

}  // namespace cloudlink

#include "server/common/deadline_runner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/thread_start.h"

namespace cloudlink {

absl::StatusOr<std::unique_ptr<DeadlineRunner>> DeadlineRunner::Start() {
  std::unique_ptr<DeadlineRunner> runner(new DeadlineRunner());
  absl::StatusOr<std::thread> thread =
      StartThread([state = runner->state_] { Loop(state); });
  if (!thread.ok()) return thread.status();
  runner->thread_ = *std::move(thread);
  return runner;
}

DeadlineRunner::~DeadlineRunner() {
  bool busy;
  {
    MutexLock lock(&state_->mu);
    state_->stopping = true;
    busy = state_->busy;
  }
  // Work that timed out may never return: its thread is left to the end of
  // the process, holding only the shared state.
  if (busy) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

absl::Status DeadlineRunner::Run(std::function<void()> work,
                                 absl::Duration timeout) {
  State& s = *state_;
  MutexLock lock(&s.mu);
  if (s.busy) {
    return absl::FailedPreconditionError(
        "the runner's earlier work has not returned yet");
  }
  s.work = std::move(work);
  s.busy = true;
  if (!s.mu.AwaitWithTimeout(
          [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return !s.busy; },
          timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("not done after ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

void DeadlineRunner::Loop(const std::shared_ptr<State>& state) {
  State& s = *state;
  MutexLock lock(&s.mu);
  while (true) {
    s.mu.Await([&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
      return s.work != nullptr || s.stopping;
    });
    if (s.work == nullptr) return;  // stopping, nothing given
    std::function<void()> work = std::move(s.work);
    s.work = nullptr;
    s.mu.Unlock();
    work();
    work = nullptr;  // what it captured goes before the caller hears
    s.mu.Lock();
    s.busy = false;
  }
}

}  // namespace cloudlink

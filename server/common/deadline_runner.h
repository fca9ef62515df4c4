#pragma once

// DeadlineRunner: runs work on a thread made in advance and waits for it at
// most a given time, for a stop that must end even when a library under it
// does not. gRPC 1.51 can wait forever in Server::Shutdown when work it
// queued went to a thread the system refused (a task limit): the daemon's
// stop runs the API's shutdown here and goes on without it when the time is
// up.
//
// The thread exists from Start(), so that Run() needs no new thread even
// when the system has none left; it sleeps without a timeout in between (no
// wake-ups while idle).
//
// Run() is for one caller at a time. Once a Run() has timed out, its work
// may still be running: the caller must not free what the work uses (the
// daemon exits without destroying it), and the destructor leaves that
// thread running (detached) instead of waiting for it.

#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/mutex.h"

namespace cloudlink {

class DeadlineRunner {
 public:
  // RESOURCE_EXHAUSTED when the system refuses the thread.
  static absl::StatusOr<std::unique_ptr<DeadlineRunner>> Start();
  ~DeadlineRunner();
  DeadlineRunner(const DeadlineRunner&) = delete;
  DeadlineRunner& operator=(const DeadlineRunner&) = delete;

  // Runs `work` on the runner's thread. OK when it returned within
  // `timeout`; DEADLINE_EXCEEDED when it had not (it runs on);
  // FAILED_PRECONDITION, without running it, while an earlier work that timed
  // out still runs.
  absl::Status Run(std::function<void()> work, absl::Duration timeout);

 private:
  // Shared with the thread, which may outlive the runner (a work that timed
  // out and returns after the runner is gone).
  struct State {
    Mutex mu;
    std::function<void()> work ABSL_GUARDED_BY(mu);  // given, not yet taken
    bool busy ABSL_GUARDED_BY(mu) = false;  // from Run() until work returns
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };
  static void Loop(const std::shared_ptr<State>& state);

  DeadlineRunner() = default;

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::thread thread_;
};

}  // namespace cloudlink

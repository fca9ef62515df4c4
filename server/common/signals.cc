#include "server/common/signals.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace cloudlink {

BlockedSignals::BlockedSignals(std::initializer_list<int> signals) {
  sigemptyset(&set_);
  for (int signal_number : signals) sigaddset(&set_, signal_number);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int BlockedSignals::Wait(absl::Duration timeout) const {
  while (true) {
    if (timeout == absl::InfiniteDuration()) {
      int taken = 0;
      if (sigwait(&set_, &taken) == 0) return taken;
      continue;
    }
    const timespec limit = absl::ToTimespec(timeout);
    const int taken = sigtimedwait(&set_, nullptr, &limit);
    if (taken > 0) return taken;
    if (errno == EAGAIN) return 0;
    // EINTR: another signal's handler ran; wait again.
  }
}

}  // namespace cloudlink

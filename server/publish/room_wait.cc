#include "server/publish/room_wait.h"

#include <algorithm>

namespace cloudlink::publish {
namespace {

// How often a waiting producer re-checks its cancellation and its deadline
// (on the caller's clock, which a test may move) while nothing wakes it.
constexpr absl::Duration kCancelPoll = absl::Milliseconds(50);

}  // namespace

bool WaitForRoom(Mutex& mu, absl::FunctionRef<bool()> has_room, Clock* clock,
                 MonotonicTime deadline,
                 const std::function<bool()>& cancelled) {
  while (!has_room()) {
    const MonotonicTime now = clock->MonotonicNow();
    if (now >= deadline || (cancelled && cancelled())) return false;
    mu.AwaitWithTimeout(has_room, std::min(deadline - now, kCancelPoll));
  }
  return true;
}

}  // namespace cloudlink::publish

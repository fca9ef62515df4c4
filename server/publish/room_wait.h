#pragma once

// The wait of a producer that asked to wait when full, shared by the publish
// queue (publish_queue.h) and the durable spool (spool.h).

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"

namespace cloudlink::publish {

// With `mu` held, waits until `has_room()` holds (it is evaluated under
// `mu`). Returns true then; false when `deadline` (on `clock`) passes or
// `cancelled()` (may be empty) returns true first. Both are checked at least
// every 50 ms. `mu` is held again on return either way.
bool WaitForRoom(Mutex& mu, absl::FunctionRef<bool()> has_room, Clock* clock,
                 MonotonicTime deadline, const std::function<bool()>& cancelled)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

}  // namespace cloudlink::publish

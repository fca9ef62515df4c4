#pragma once

// The node state people see: the claim part (what the controller read from
// disk and the claim inputs) with the cloud link's view laid over it.
// Pure, thread-safe.

#include "server/link/cloud_link.h"
#include "server/node/node_state.h"

namespace cloudlink::node {

// `base` with `link` laid over it: while the link runs for the stored claim,
// its status (online, offline, banned), reason, retry schedule and mqtt
// version; the node id it learned and its connection times, for the
// stored claim only; always its publish counters. `since` is left as `base` has
// it (the caller derives it from status changes).
NodeState ComposeNodeState(const NodeState& base, const link::LinkStatus& link);

}  // namespace cloudlink::node

#pragma once

// The JSON objects of the local HTTP endpoint, built from a NodeState:
//
//   "cloud", shaped like the Netdata Agent's (GET /api/v3/info, /api/v3/claim):
//     id          connections made so far (the connection counter)
//     status      "available" (not claimed), "offline", "online", "banned"
//     since, age  epoch seconds of the last status change, seconds since then
//     claim_id    when claimed
//     url         the cloud URL (when not claimed: the configured one, if any)
//     reason      why not online ("" when online; the claim failure when
//                 available)
//     reason_name the registered reason of `reason` (server/common/reasons.h),
//                 "" when none; an addition of cloudlink, for programs
//     next_check, next_in  when offline with an attempt due: epoch seconds of
//                 the attempt and seconds until it
//
//   "agent": machine_guid, node_id, hostname, version, and `publish`, the
//     publish counters (published, acked, pending, queued, spooled, failed,
//     timed_out, resent, rejected, bytes).
//
// docs/web.md documents both for users.

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "server/node/node_state.h"

namespace cloudlink::web {

// The "cloud" object for `state` as of `now`.
nlohmann::json CloudJson(const node::NodeState& state, absl::Time now);

// The "agent" object for `state`.
nlohmann::json AgentJson(const node::NodeState& state);

// Whether the local page may claim the node in `state`: when not claimed, or
// claimed but offline (as the Agent's can_be_claimed).
bool CanBeClaimed(const node::NodeState& state);

}  // namespace cloudlink::web

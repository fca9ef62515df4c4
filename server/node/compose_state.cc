#include "server/node/compose_state.h"

#include "server/common/reasons.h"
#include "server/node/node_reason.h"

namespace cloudlink::node {

NodeState ComposeNodeState(const NodeState& base,
                           const link::LinkStatus& link) {
  NodeState next = base;
  const link::LinkStatus& l = link;
  if (next.claimed && !l.node_id.empty() && l.claim_id == next.claimed_id) {
    next.node_id = l.node_id;
  }
  if (next.claimed && l.active) {
    next.online = l.online;
    next.mqtt_version = l.mqtt_version;
    if (l.banned) {
      next.status = kStatusBanned;
    } else if (l.online) {
      next.status = kStatusOnline;
    } else {
      next.status = kStatusOffline;
    }
    if (l.online) {
      next.reason.clear();
      next.reason_name.clear();
    } else if (!l.reason.empty()) {
      next.reason = l.reason;
      next.reason_name = l.reason_name;
    } else {
      SetReason(&next, reason::kConnecting, "connecting to the cloud");
    }
    next.next_attempt = l.next_attempt;
    next.last_backoff = l.last_backoff;
  }
  if (l.claim_id == next.claimed_id) {
    // Another claim's history (a Reclaim the link has not taken up yet)
    // does not describe this one.
    next.reconnect_count = l.connections > 0 ? l.connections - 1 : 0;
    next.last_connect = l.last_connect;
    next.last_disconnect = l.last_disconnect;
  }
  next.publish.published = l.counters.published;
  next.publish.acked = l.counters.acked;
  next.publish.resent = l.publish_resent;
  next.publish.timed_out = l.publish_timed_out;
  next.publish.failed = l.counters.failed + l.publish_failed;
  next.publish.bytes = l.counters.bytes;
  next.publish.pending = l.in_flight + l.publish_held;
  next.publish.queued = l.queued;
  next.publish.latency_p50 = l.latency_p50;
  next.publish.latency_p99 = l.latency_p99;
  return next;
}

}  // namespace cloudlink::node

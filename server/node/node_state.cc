#include "server/node/node_state.h"

#include <tuple>

namespace cloudlink::node {
namespace {

// Each field once, in declaration order. The size checks below fire when a
// field is added (on x86-64 Linux, where cloudlink builds): add it here
// too, then update the size, or WatchState would miss its changes.
auto Fields(const PublishStats& s) {
  return std::tie(s.published, s.acked, s.pending, s.timed_out, s.queued,
                  s.spooled, s.bytes, s.resent, s.queued_bytes, s.spool_bytes,
                  s.rejected, s.wait_timed_out, s.spool_corrupt, s.failed,
                  s.latency_p50, s.latency_p99);
}

auto Fields(const NodeState& s) {
  return std::tie(s.claimed, s.claimed_id, s.machine_guid, s.node_id, s.url,
                  s.rooms, s.proxy, s.proxy_source, s.insecure, s.status,
                  s.reason, s.reason_name, s.since, s.online, s.mqtt_version,
                  s.reconnect_count, s.last_connect, s.last_disconnect,
                  s.next_attempt, s.last_backoff, s.publish, s.claim_source,
                  s.config_error, s.hostname);
}

#if defined(__x86_64__) && defined(__linux__)
static_assert(sizeof(PublishStats) == 144,
              "PublishStats changed: update Fields(PublishStats)");
static_assert(sizeof(NodeState) == 664,
              "NodeState changed: update Fields(NodeState)");
#endif

}  // namespace

bool operator==(const PublishStats& a, const PublishStats& b) {
  return Fields(a) == Fields(b);
}

bool operator==(const NodeState& a, const NodeState& b) {
  return Fields(a) == Fields(b);
}

}  // namespace cloudlink::node

#pragma once

// A snapshot of everything the node knows about its claim and link: what
// GetState returns and `aclk-state` prints. A plain value, copied freely.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace cloudlink::node {

// Values of NodeState::status.
inline constexpr char kStatusAvailable[] = "available";  // not claimed
inline constexpr char kStatusOffline[] = "offline";  // claimed, not connected
inline constexpr char kStatusOnline[] = "online";
inline constexpr char kStatusBanned[] = "banned";

struct PublishStats {
  uint64_t published = 0;
  uint64_t acked = 0;
  uint64_t pending = 0;
  uint64_t timed_out = 0;
  uint64_t queued = 0;
  uint64_t spooled = 0;
  uint64_t bytes = 0;
  uint64_t resent = 0;
  uint64_t queued_bytes = 0;
  uint64_t spool_bytes = 0;
  uint64_t rejected = 0;
  uint64_t wait_timed_out = 0;  // producers that gave up waiting for room
  uint64_t spool_corrupt = 0;   // torn/corrupt spool records found at open
  uint64_t failed = 0;  // refused by the broker, too large, unknown topic,
                        // or not stored by the spool (SPOOL_WRITE_FAILED)
  absl::Duration latency_p50 = absl::ZeroDuration();
  absl::Duration latency_p99 = absl::ZeroDuration();
};

// Every field equal.
bool operator==(const PublishStats& a, const PublishStats& b);
inline bool operator!=(const PublishStats& a, const PublishStats& b) {
  return !(a == b);
}

struct NodeState {
  bool claimed = false;
  std::string claimed_id;
  std::string machine_guid;
  std::string node_id;
  std::string url;
  std::vector<std::string> rooms;
  std::string proxy;  // credentials redacted
  std::string
      proxy_source;  // "claim.conf", "env", "rpc", "cloud.conf", "default"
  bool insecure = false;
  std::string status = kStatusAvailable;
  std::string reason;
  // The registered reason (server/common/reasons.h) `reason` reports, for
  // decisions; "" when `reason` is empty or came without one.
  std::string reason_name;
  absl::Time since = absl::UnixEpoch();
  bool online = false;
  uint32_t mqtt_version = 0;
  uint64_t reconnect_count = 0;
  absl::Time last_connect = absl::InfinitePast();     // InfinitePast: never
  absl::Time last_disconnect = absl::InfinitePast();  // InfinitePast: never
  absl::Time next_attempt = absl::InfinitePast();     // InfinitePast: none due
  absl::Duration last_backoff = absl::ZeroDuration();
  PublishStats publish;
  std::string claim_source;  // "claim.conf", "env", "rpc", ""
  std::string config_error;
  std::string hostname;
};

// Every field equal (`since` included).
bool operator==(const NodeState& a, const NodeState& b);
inline bool operator!=(const NodeState& a, const NodeState& b) {
  return !(a == b);
}

}  // namespace cloudlink::node

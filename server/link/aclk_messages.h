#pragma once

// The protobuf payloads the link exchanges with the cloud over MQTT (the
// aclk.v1 messages in proto/aclk/v1), as plain functions: what goes into
// each field, and what the link reads back. See docs/protocol.md for the
// topics they travel on.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cloudlink::link {

// UpdateAgentConnection on "agent-connection": reachable with the "proto"
// capability when the node comes online; not reachable when it leaves
// (`as_will` marks the copy the broker holds as the MQTT will).
std::string AgentConnectionPayload(absl::string_view claim_id, bool reachable,
                                   int64_t session_id, bool as_will,
                                   absl::Time wall_now);

// CreateNodeInstance on "create-node-instance": asks the cloud for this
// node's node id.
std::string CreateNodeInstancePayload(absl::string_view claim_id,
                                      absl::string_view machine_guid,
                                      absl::string_view hostname);

// UpdateNodeInstanceConnection on "node-instance-connection": the node
// instance is live and queryable in this session.
std::string NodeInstanceConnectionPayload(absl::string_view claim_id,
                                          absl::string_view node_id,
                                          int64_t session_id,
                                          absl::Time wall_now);

// A DisconnectReq from the cloud, read.
struct CloudDisconnect {
  bool permaban = false;
  uint64_t reconnect_after_seconds = 0;
  std::string detail;  // "error code N[: description]"
};

// INVALID_ARGUMENT CLOUD_MESSAGE_INVALID when `payload` does not parse.
absl::StatusOr<CloudDisconnect> ParseDisconnectReq(absl::string_view payload);

// The node id of a CreateNodeInstanceResult for `machine_guid`.
// INVALID_ARGUMENT CLOUD_MESSAGE_INVALID when it does not parse, has no node
// id, or names another machine.
absl::StatusOr<std::string> ParseCreateNodeInstanceResult(
    absl::string_view payload, absl::string_view machine_guid);

}  // namespace cloudlink::link

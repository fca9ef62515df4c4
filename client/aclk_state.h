#pragma once

// `cloudlinkctl aclk-state`: the State in the line format of the reference
// tool (`netdatacli aclk-state`), so instructions and scripts written for it
// keep working.

#include <string>

#include "cloudlink/v1/cloudlink.pb.h"

namespace cloudlink::client {

// The reference tool's seven lines, in its order and wording:
//
//   ACLK Available: Yes
//   ACLK Implementation: Next Generation
//   New Cloud Protocol Support: Yes
//   Claimed: No
//   Claimed Id: null          (the claim id when claimed)
//   Online: No
//   Used Cloud Protocol: New
//
// then one "Key: value" line for each further State field (Status, Reason,
// Since, Machine GUID, Node Id, Hostname, Cloud URL, Rooms, Claim Source,
// Config Error, Proxy, Proxy Source, Insecure, Banned By Cloud, MQTT Version,
// Reconnect Count, Last Connect, Last Disconnect, Next Attempt, Last Backoff,
// publish counters and latency). Absent values print as "null" (as in the
// text of get-state and every other command: output_format.h), flags as
// Yes/No, times as RFC 3339 UTC. Every line ends with "\n".
std::string AclkStateText(const cloudlink::v1::State& state);

}  // namespace cloudlink::client

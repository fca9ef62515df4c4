#pragma once

// How the node state's reason and config_error texts are made from errors
// and from what the claim sources found. Pure, thread-safe.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/common/reasons.h"
#include "server/config/claim_sources.h"
#include "server/node/node_state.h"

namespace cloudlink::node {

// config_error text: claim.conf's problem, then the environment's, joined by
// "; "; "" when both are OK.
std::string ConfigErrorText(const config::ClaimSourcesResult& sources);

// The reason behind ConfigErrorText (the first problem's), "" when none.
std::string ConfigErrorReason(const config::ClaimSourcesResult& sources);

// Sets the state's reason text and name to `why`'s.
void SetReason(NodeState* state, const absl::Status& why);

// Sets the state's reason to "REASON: sentence" and its name to `reason`.
void SetReason(NodeState* state, const Reason& reason,
               absl::string_view sentence);

// A proxy setting as shown in the state: credentials redacted, also when the
// setting does not parse.
std::string RedactedProxy(absl::string_view raw);

}  // namespace cloudlink::node

#pragma once

// The claim part of the node state, as read from the state directory and
// the claim sources: identity, stored claim (or the inputs an unclaimed node
// would claim with), status (available or offline) and the reason that
// explains it. The link's view is laid over it later (compose_state.h).
//
// Not thread-safe (it reads through a StateDir): the node controller calls
// it under its operation lock.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/config/claim_sources.h"
#include "server/node/node_state.h"
#include "server/state/state_dir.h"

namespace cloudlink::node {

struct ClaimStateInputs {
  std::string hostname;
  // What the claim sources found (config_error and claim_source come from
  // it; an unclaimed node shows the inputs it would claim with).
  config::ClaimSourcesResult sources;
  // The last claim failure; the reason of an unclaimed node while not OK.
  absl::Status claim_error;
  // When the next automatic claim is due (wall time); InfinitePast: none.
  absl::Time next_claim_attempt = absl::InfinitePast();
};

// `previous` with its claim part replaced by what `dir` and `inputs` say.
// Creates the machine GUID when missing (LoadOrCreateMachineGuid). A claimed
// node's claim_source is the one stored with the claim; claim inputs that
// differ from the claim add CONFIG_DIFFERS_FROM_CLAIM to config_error
// (claim_drift.h), and proxy_source names claim.conf or env when the claim's
// connection settings follow them and match. Problems
// reading the state directory are logged ("STATE: ...") and shown as the
// reason; they never fail the call.
NodeState ReadClaimState(NodeState previous, state::StateDir& dir,
                         const ClaimStateInputs& inputs);

}  // namespace cloudlink::node

#pragma once

// Which claim inputs apply when the node has no valid claim id:
// <config dir>/claim.conf first, then the NETDATA_CLAIM_* environment;
// the first complete one wins. (An explicit Claim RPC overrides both and does
// not come through here.)
//
// A claim.conf that exists but cannot be read or is malformed does not block
// the environment: the environment is used when it is complete, and the
// claim.conf error is still returned so the caller logs it ("CLAIM: ...") and
// shows it in the state's reason. An operator who fixes claim.conf and runs
// reload-claiming-state gets claim.conf again.

#include <string>

#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "server/config/claim_inputs.h"
#include "server/config/environment.h"

namespace cloudlink::config {

struct ClaimSourcesResult {
  // The winning inputs (source "claim.conf" or "env"); empty when neither
  // source is complete and valid.
  absl::optional<ClaimInputs> inputs;
  // Not OK when claim.conf exists but could not be read or is invalid.
  absl::Status claim_conf_error;
  // Not OK when the environment was consulted (claim.conf missing or bad)
  // and NETDATA_CLAIM_TOKEN is set but some variable is invalid.
  absl::Status env_error;
};

// Reads `config_dir`/claim.conf, then `env` when needed. Thread-safe.
ClaimSourcesResult ResolveClaimInputs(const std::string& config_dir,
                                      const Environment& env);

}  // namespace cloudlink::config

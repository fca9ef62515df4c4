#pragma once

// Claim settings from the environment, as Netdata's agent reads them:
//
//   NETDATA_CLAIM_TOKEN       required; unset or "" → no inputs
//   NETDATA_CLAIM_URL         default https://app.netdata.cloud
//   NETDATA_CLAIM_ROOMS       comma list (values.h ParseRooms)
//   NETDATA_CLAIM_PROXY       proxy setting (proxy.h); default "env"
//   NETDATA_EXTRA_CLAIM_OPTS  space-separated words; "-insecure" turns
//                             insecure on, other words are ignored
//
// A variable set to "" counts as unset (container templates often carry
// empty placeholders), so NETDATA_CLAIM_PROXY="" keeps the default "env";
// write "none" for a direct connection.

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "server/config/claim_inputs.h"
#include "server/config/environment.h"

namespace cloudlink::config {

// The inputs from `env` with source "env", an empty optional when
// NETDATA_CLAIM_TOKEN is unset or empty, or the first validation error
// (claim_inputs.h reasons) prefixed with the variable's name:
// "URL_INVALID: NETDATA_CLAIM_URL: ...". Pure, thread-safe.
absl::StatusOr<absl::optional<ClaimInputs>> LoadEnvClaim(
    const Environment& env);

}  // namespace cloudlink::config

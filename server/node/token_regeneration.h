#pragma once

// RegenerateToken: the Space's claim token regenerated through the cloud's
// API, and optionally written into claim.conf. The cloud revokes the old
// token the moment it issues a new one, so everything that can be checked
// (url, proxy, claim.conf readable and parseable) is checked before asking,
// and a claim.conf write that fails afterwards still returns the new token.
//
// Not thread-safe by itself: the node controller serializes the calls with
// its other mutating operations.

#include <string>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "server/config/claim_sources.h"
#include "server/config/environment.h"
#include "server/http/http_client.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"

namespace cloudlink::node {

struct RegenerateArgs {
  std::string space_id;
  std::string api_token;
  std::string url;
  std::string proxy;
  bool update_claim_conf = false;
  bool insecure = false;
};

struct RegenerateOutcome {
  std::string token;
  bool claim_conf_updated = false;
  // Why claim.conf was not updated although asked ("" otherwise).
  std::string claim_conf_error;
};

// What the regeneration reads besides its arguments.
struct RegenerateContext {
  std::string config_dir;  // holds claim.conf
  std::string cloud_ca;    // extra trusted CAs; "" none
  config::Environment env;
  // The stored claim (nullopt: unclaimed or unreadable) and the claim
  // sources: their url and proxy are the defaults, in that order.
  absl::optional<state::StoredClaim> stored;
  config::ClaimSourcesResult sources;
  state::FileSystem* fs = nullptr;
  http::HttpClient* http = nullptr;
};

// Regenerates the token. Errors: INVALID_ARGUMENT for a bad url or proxy;
// FAILED_PRECONDITION CLAIM_CONF_WRITE_FAILED when update_claim_conf is
// asked and claim.conf cannot be read or parsed (nothing asked, nothing
// changed); the cloud API's errors. A claim.conf write that fails after
// the cloud answered is an OK outcome with claim_conf_updated=false and
// claim_conf_error set.
absl::StatusOr<RegenerateOutcome> RegenerateTokenAndClaimConf(
    const RegenerateArgs& args, const RegenerateContext& context);

}  // namespace cloudlink::node

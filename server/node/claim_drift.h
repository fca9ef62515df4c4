#pragma once

// How the claim inputs that claim.conf or the environment supply now differ
// from the claim a node runs with (cloud.d/cloud.conf), and what that means:
//
//   - connection settings (proxy, insecure) are this machine's, not the
//     claim's: when they differ they are applied on reload and at start and
//     stored in cloud.conf, without reclaiming, unless the claim was made by
//     the Claim RPC (then its own arguments rule until the next reclaim);
//   - the claim itself (token, url, rooms) cannot change without a new
//     claim: a difference is reported as CONFIG_DIFFERS_FROM_CLAIM naming
//     the keys and the fix (`cloudlinkctl reclaim`), and nothing changes.
//
// Pure, thread-safe.

#include <string>
#include <vector>

#include "server/config/claim_inputs.h"
#include "server/config/cloud_conf.h"

namespace cloudlink::node {

struct ClaimDrift {
  // Claim keys that differ, in the order "token", "url", "rooms".
  std::vector<std::string> claim_keys;
  // Connection keys that differ, in the order "proxy", "insecure".
  std::vector<std::string> connection_keys;
};

// What differs between `claim` and `inputs`. urls compare canonically
// (config::CanonicalCloudUrl), rooms as sets.
ClaimDrift CompareWithClaim(const config::CloudConf& claim,
                            const config::ClaimInputs& inputs);

// Whether the claim's connection settings follow claim.conf / the
// environment: true unless the claim was made by the Claim RPC.
bool ConnectionFollowsSources(const config::CloudConf& claim);

// The CONFIG_DIFFERS_FROM_CLAIM text for a node claimed as `claimed_id`
// whose `source` ("claim.conf", "env") now has other values for `keys`:
// names the keys and the fix; never a value (the token is a secret).
// "" when `keys` is empty.
std::string ConfigDiffersText(const std::vector<std::string>& keys,
                              const std::string& source,
                              const std::string& claimed_id);

}  // namespace cloudlink::node

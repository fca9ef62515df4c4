#include "server/node/claim_drift.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/error.h"

namespace cloudlink::node {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

ClaimDrift CompareWithClaim(const config::CloudConf& claim,
                            const config::ClaimInputs& inputs) {
  ClaimDrift drift;
  if (claim.token != inputs.token) drift.claim_keys.push_back("token");
  const std::string claim_url = config::CanonicalCloudUrl(
      claim.url.empty() ? config::kDefaultCloudUrl : claim.url);
  if (claim_url != config::CanonicalCloudUrl(inputs.url)) {
    drift.claim_keys.push_back("url");
  }
  if (Sorted(claim.rooms) != Sorted(inputs.rooms)) {
    drift.claim_keys.push_back("rooms");
  }
  if (claim.proxy != inputs.proxy) drift.connection_keys.push_back("proxy");
  if (claim.insecure != inputs.insecure) {
    drift.connection_keys.push_back("insecure");
  }
  return drift;
}

bool ConnectionFollowsSources(const config::CloudConf& claim) {
  return claim.source != "rpc";
}

std::string ConfigDiffersText(const std::vector<std::string>& keys,
                              const std::string& source,
                              const std::string& claimed_id) {
  if (keys.empty()) return "";
  const std::string where =
      source == "env" ? "the NETDATA_CLAIM_* environment" : source;
  return ErrorText(
      reason::kConfigDiffersFromClaim,
      absl::StrCat(where, " has another ", absl::StrJoin(keys, ", "),
                   " than the claim this node runs with (", claimed_id,
                   "); they are not used until the node is claimed again: "
                   "run `cloudlinkctl reclaim` to claim with them, or put "
                   "the claim's values back"));
}

}  // namespace cloudlink::node

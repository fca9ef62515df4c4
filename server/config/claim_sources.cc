#include "server/config/claim_sources.h"

#include "absl/strings/str_cat.h"
#include "server/config/claim_conf.h"
#include "server/config/env_claim.h"

namespace cloudlink::config {

ClaimSourcesResult ResolveClaimInputs(const std::string& config_dir,
                                      const Environment& env) {
  ClaimSourcesResult result;
  absl::StatusOr<absl::optional<ClaimInputs>> from_file =
      LoadClaimConf(absl::StrCat(config_dir, "/", kClaimConfName));
  if (!from_file.ok()) {
    result.claim_conf_error = from_file.status();
  } else if (from_file->has_value()) {
    result.inputs = std::move(*from_file);
    return result;
  }
  absl::StatusOr<absl::optional<ClaimInputs>> from_env = LoadEnvClaim(env);
  if (!from_env.ok()) {
    result.env_error = from_env.status();
  } else {
    result.inputs = std::move(*from_env);
  }
  return result;
}

}  // namespace cloudlink::config

#include "server/config/env_claim.h"

#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/config/error_context.h"
#include "server/config/values.h"

namespace cloudlink::config {

absl::StatusOr<absl::optional<ClaimInputs>> LoadEnvClaim(
    const Environment& env) {
  ClaimInputs inputs;
  inputs.source = "env";
  inputs.token = EnvValue(env, "NETDATA_CLAIM_TOKEN");
  if (inputs.token.empty()) return absl::optional<ClaimInputs>();
  RETURN_IF_ERROR(
      AddErrorContext(ValidateClaimToken(inputs.token), "NETDATA_CLAIM_TOKEN"));

  std::string url = EnvValue(env, "NETDATA_CLAIM_URL");
  if (!url.empty()) {
    inputs.url = CanonicalCloudUrl(url);
    RETURN_IF_ERROR(
        AddErrorContext(ValidateClaimUrl(inputs.url), "NETDATA_CLAIM_URL"));
  }
  inputs.rooms = ParseRooms(EnvValue(env, "NETDATA_CLAIM_ROOMS"));
  RETURN_IF_ERROR(
      AddErrorContext(ValidateClaimRooms(inputs.rooms), "NETDATA_CLAIM_ROOMS"));
  std::string proxy = EnvValue(env, "NETDATA_CLAIM_PROXY");
  if (!proxy.empty()) {
    inputs.proxy = proxy;
    RETURN_IF_ERROR(AddErrorContext(ValidateClaimProxy(inputs.proxy),
                                    "NETDATA_CLAIM_PROXY"));
  }
  for (absl::string_view word :
       absl::StrSplit(EnvValue(env, "NETDATA_EXTRA_CLAIM_OPTS"),
                      absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
    if (word == "-insecure") inputs.insecure = true;
  }
  return absl::optional<ClaimInputs>(std::move(inputs));
}

}  // namespace cloudlink::config

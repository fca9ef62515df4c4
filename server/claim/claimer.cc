#include "server/claim/claimer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/log.h"
#include "server/common/uuid.h"

namespace cloudlink::claim {

absl::StatusOr<std::string> Claimer::Claim(const ClaimParams& params) {
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    const std::string claim_id = NewUuidV4();
    LogDebug(absl::StrCat(
        "CLAIM: attempt ", attempt, " of ", options_.max_attempts,
        ": claim id ", claim_id, ", url ", params.url, ", rooms ",
        params.rooms.empty() ? "(none)" : absl::StrJoin(params.rooms, ","),
        ", proxy ", params.transport.proxy.Redacted(),
        params.transport.insecure ? ", insecure" : ""));
    absl::StatusOr<http::HttpResponse> response =
        client_->Send(BuildClaimRequest(params, claim_id), params.transport);
    last = response.ok() ? ClaimResponseStatus(*response, params.rooms)
                         : response.status();
    if (last.ok()) {
      LogInfo(absl::StrCat("CLAIM: claimed as ", claim_id, " at ", params.url,
                           " (attempt ", attempt, ")"));
      return claim_id;
    }
    const bool retry = IsRetryable(last) && attempt < options_.max_attempts;
    LogError(absl::StrCat(
        "CLAIM: attempt ", attempt, " of ", options_.max_attempts,
        " failed: ", last.message(), "; url ", params.url, ", proxy ",
        params.transport.proxy.Redacted(), retry ? "; retrying" : ""));
    if (!retry) break;
    options_.pause(options_.pause_base + options_.pause_step * attempt);
  }
  return last;
}

}  // namespace cloudlink::claim

#include "server/node/claim_state.h"

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/node/claim_drift.h"
#include "server/node/node_reason.h"

namespace cloudlink::node {

NodeState ReadClaimState(NodeState previous, state::StateDir& dir,
                         const ClaimStateInputs& inputs) {
  NodeState next = std::move(previous);
  const config::ClaimSourcesResult& sources = inputs.sources;
  next.hostname = inputs.hostname;
  next.claimed = false;
  next.claimed_id.clear();
  next.node_id.clear();
  next.rooms.clear();
  next.url.clear();
  next.proxy.clear();
  next.proxy_source.clear();
  next.insecure = false;
  next.next_attempt = absl::InfinitePast();
  next.reason.clear();
  next.reason_name.clear();

  absl::StatusOr<std::string> guid = dir.LoadOrCreateMachineGuid();
  if (guid.ok()) {
    next.machine_guid = *guid;
  } else {
    next.machine_guid.clear();
    SetReason(&next, guid.status());
    LogError(absl::StrCat("STATE: ", guid.status().message()));
  }

  next.config_error = ConfigErrorText(sources);
  next.claim_source = sources.inputs ? sources.inputs->source : "";

  absl::StatusOr<absl::optional<state::StoredClaim>> stored = dir.ReadClaim();
  if (!stored.ok()) {
    LogError(absl::StrCat("STATE: ", stored.status().message()));
    if (next.reason.empty()) SetReason(&next, stored.status());
  } else if (stored->has_value()) {
    const state::StoredClaim& claim = **stored;
    next.claimed = true;
    next.claimed_id = claim.claimed_id;
    absl::StatusOr<std::string> node_id = dir.ReadNodeId();
    if (node_id.ok()) {
      next.node_id = *node_id;
    } else {
      LogWarning(absl::StrCat("STATE: ", node_id.status().message()));
    }
    next.url = claim.cloud_conf.url;
    next.rooms = claim.cloud_conf.rooms;
    next.insecure = claim.cloud_conf.insecure;
    if (claim.has_cloud_conf) {
      next.proxy = RedactedProxy(claim.cloud_conf.proxy);
      next.proxy_source = "cloud.conf";
      if (!claim.cloud_conf.source.empty()) {
        next.claim_source = claim.cloud_conf.source;
      }
    }
    if (claim.has_cloud_conf && sources.inputs) {
      const ClaimDrift drift =
          CompareWithClaim(claim.cloud_conf, *sources.inputs);
      std::vector<std::string> keys = drift.claim_keys;
      if (ConnectionFollowsSources(claim.cloud_conf)) {
        // Applied at start and on reload (claim_drift.h); until then the
        // claim's own values are shown, from cloud.conf.
        if (drift.connection_keys.empty()) {
          next.proxy_source = sources.inputs->source;
        }
      } else {
        keys.insert(keys.end(), drift.connection_keys.begin(),
                    drift.connection_keys.end());
      }
      const std::string differs =
          ConfigDiffersText(keys, sources.inputs->source, claim.claimed_id);
      if (!differs.empty()) {
        if (!next.config_error.empty()) next.config_error += "; ";
        next.config_error += differs;
      }
    }
  }
  if (!next.claimed && sources.inputs) {
    next.url = sources.inputs->url;
    next.rooms = sources.inputs->rooms;
    next.insecure = sources.inputs->insecure;
    next.proxy = RedactedProxy(sources.inputs->proxy);
    next.proxy_source = sources.inputs->source;
  }
  if (!next.claimed) next.next_attempt = inputs.next_claim_attempt;

  if (next.claimed) {
    next.status = kStatusOffline;
    if (next.reason.empty()) {
      SetReason(&next, reason::kNotConnected,
                "claimed; the cloud link is not connected yet");
    }
  } else {
    next.status = kStatusAvailable;
    if (next.reason.empty()) {
      if (!inputs.claim_error.ok()) {
        SetReason(&next, inputs.claim_error);
      } else if (!next.config_error.empty()) {
        next.reason = next.config_error;
        next.reason_name = ConfigErrorReason(sources);
      } else if (sources.inputs) {
        SetReason(&next, reason::kClaimPending,
                  absl::StrCat("claiming with the token from ",
                               sources.inputs->source));
      } else {
        SetReason(&next, reason::kNotClaimed,
                  "the node is not claimed; create claim.conf, set "
                  "NETDATA_CLAIM_TOKEN, or call Claim");
      }
    }
  }
  return next;
}

}  // namespace cloudlink::node

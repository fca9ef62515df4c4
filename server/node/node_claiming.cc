// NodeController's claiming operations (node_controller.h): Claim,
// Reclaim, RegenerateToken and ReloadClaimingState, and the claim itself
// (ClaimLocked) that they and the worker's automatic claims share. The
// controller's life, its worker, the link and the state are in
// node_controller.cc.

#include "absl/strings/str_cat.h"
#include "server/claim/key_pair.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/config/claim_conf.h"
#include "server/config/claim_sources.h"
#include "server/http/transport_for.h"
#include "server/node/claim_state.h"
#include "server/node/node_controller.h"
#include "server/node/node_reason.h"

namespace cloudlink::node {
namespace {

config::ClaimInputs InputsFromArgs(const ClaimArgs& args) {
  config::ClaimInputs inputs;
  inputs.source = "rpc";
  inputs.token = args.token;
  inputs.rooms = args.rooms;
  if (!args.url.empty()) inputs.url = config::CanonicalCloudUrl(args.url);
  if (!args.proxy.empty()) inputs.proxy = args.proxy;
  inputs.insecure = args.insecure;
  return inputs;
}

}  // namespace

absl::StatusOr<std::string> NodeController::ClaimLocked(
    const config::ClaimInputs& inputs) {
  auto fail = [this](absl::Status s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_) {
    claim_error_ = s;
    LoadLocked();
    return s;
  };
  absl::StatusOr<std::string> guid = state_dir_.LoadOrCreateMachineGuid();
  if (!guid.ok()) return fail(guid.status());
  absl::StatusOr<std::string> public_pem =
      claim::EnsureKeyPair(state_dir_, fs_);
  if (!public_pem.ok()) return fail(public_pem.status());
  absl::StatusOr<http::TransportOptions> transport =
      http::TransportFor(inputs.proxy, options_.env, inputs.url,
                         inputs.insecure, options_.cloud_ca);
  if (!transport.ok()) return fail(transport.status());

  claim::ClaimParams params;
  params.url = config::CanonicalCloudUrl(inputs.url);
  params.token = inputs.token;
  params.rooms = inputs.rooms;
  params.hostname = options_.hostname;
  params.machine_guid = *guid;
  params.public_key_pem = *public_pem;
  params.transport = *transport;
  absl::StatusOr<std::string> claimed_id = claimer_.Claim(params);
  if (!claimed_id.ok()) return fail(claimed_id.status());

  config::CloudConf conf;
  conf.url = params.url;
  conf.proxy = inputs.proxy;
  conf.token = inputs.token;
  conf.rooms = inputs.rooms;
  conf.insecure = inputs.insecure;
  conf.machine_guid = *guid;
  conf.claimed_id = *claimed_id;
  conf.hostname = options_.hostname;
  conf.source = inputs.source;
  absl::Status written = state_dir_.WriteClaim(conf);
  if (!written.ok()) {
    // cloud.conf is the commit point: when it made it to disk and only
    // claimed_id failed, the claim stands (claimed_id is repaired on read).
    absl::StatusOr<absl::optional<state::StoredClaim>> committed =
        state_dir_.ReadClaim();
    if (committed.ok() && committed->has_value() &&
        (*committed)->claimed_id == *claimed_id) {
      LogWarning(absl::StrCat("CLAIM: stored the claim as ", *claimed_id,
                              " but not all of it: ", written.message()));
      written = absl::OkStatus();
    }
  }
  if (!written.ok()) {
    LogError(absl::StrCat("CLAIM: claimed as ", *claimed_id,
                          " but could not store it: ", written.message()));
    return fail(
        Error(absl::StatusCode::kUnavailable, reason::kStateWriteFailed,
              absl::StrCat("the cloud accepted the claim but it could "
                           "not be stored (",
                           written.message(),
                           "); fix the lib directory and claim again")));
  }
  claim_error_ = absl::OkStatus();
  claim_backoff_.Reset();
  LoadLocked();
  StartLinkLocked();
  return *claimed_id;
}

absl::StatusOr<ClaimOutcome> NodeController::Claim(const ClaimArgs& args) {
  const config::ClaimInputs inputs = InputsFromArgs(args);
  RETURN_IF_ERROR(config::ValidateClaimInputs(inputs));
  MutexLock op(&op_mu_);
  ASSIGN_OR_RETURN(absl::optional<state::StoredClaim> stored,
                   state_dir_.ReadClaim());
  if (stored.has_value()) {
    if (stored->has_cloud_conf && stored->cloud_conf.token == inputs.token &&
        config::CanonicalCloudUrl(stored->cloud_conf.url) == inputs.url) {
      LogInfo(absl::StrCat("CLAIM: already claimed as ", stored->claimed_id,
                           " with this token and url"));
      return ClaimOutcome{stored->claimed_id, /*already_claimed=*/true};
    }
    return Error(
        absl::StatusCode::kFailedPrecondition, reason::kClaimedElsewhere,
        absl::StrCat("the node is already claimed as ", stored->claimed_id,
                     " with another token or url; use Reclaim to "
                     "move it"));
  }
  ASSIGN_OR_RETURN(std::string claimed_id, ClaimLocked(inputs));
  return ClaimOutcome{claimed_id, /*already_claimed=*/false};
}

absl::StatusOr<ReclaimOutcome> NodeController::Reclaim(bool new_identity,
                                                       const ClaimArgs& args) {
  MutexLock op(&op_mu_);
  // Decide the inputs before touching anything: bad input loses nothing.
  config::ClaimInputs inputs;
  if (!args.token.empty()) {
    inputs = InputsFromArgs(args);
    RETURN_IF_ERROR(config::ValidateClaimInputs(inputs));
  } else {
    config::ClaimSourcesResult sources =
        config::ResolveClaimInputs(options_.config_dir, options_.env);
    if (!sources.inputs) {
      std::string why = ConfigErrorText(sources);
      return Error(absl::StatusCode::kFailedPrecondition,
                   reason::kNoClaimInputs,
                   absl::StrCat("Reclaim without a token needs claim.conf or "
                                "NETDATA_CLAIM_TOKEN",
                                why.empty() ? "" : absl::StrCat(" (", why, ")"),
                                "; pass --token or fix the configuration"));
    }
    inputs = *sources.inputs;
  }

  // Say goodbye under the old claim id before it disappears.
  link_->Stop();
  running_link_.reset();
  LogInfo(absl::StrCat("CLAIM: reclaiming",
                       new_identity ? " with a new machine GUID" : "",
                       "; removing ", state_dir_.CloudDir()));
  RETURN_IF_ERROR(state_dir_.RemoveCloudDir());
  if (new_identity) {
    absl::StatusOr<std::string> guid = state_dir_.ReplaceMachineGuid();
    if (!guid.ok()) {
      LoadLocked();
      return guid.status();
    }
  }
  claim_error_ = absl::OkStatus();
  ASSIGN_OR_RETURN(std::string claimed_id, ClaimLocked(inputs));
  return ReclaimOutcome{claimed_id, GetState().first.machine_guid};
}

absl::StatusOr<RegenerateOutcome> NodeController::RegenerateToken(
    const RegenerateArgs& args) {
  MutexLock op(&op_mu_);
  RegenerateContext context;
  context.config_dir = options_.config_dir;
  context.cloud_ca = options_.cloud_ca;
  context.env = options_.env;
  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (stored.ok()) context.stored = *std::move(stored);
  context.sources =
      config::ResolveClaimInputs(options_.config_dir, options_.env);
  context.fs = fs_;
  context.http = http_;
  absl::StatusOr<RegenerateOutcome> outcome =
      RegenerateTokenAndClaimConf(args, context);
  if (outcome.ok() && outcome->claim_conf_updated) {
    // claim.conf described this node's claim: the claim's record follows
    // the Space's new token, so claim.conf does not now differ from it.
    const absl::optional<state::StoredClaim>& claim = context.stored;
    if (claim.has_value() && claim->has_cloud_conf && context.sources.inputs &&
        context.sources.inputs->source == config::kClaimConfName &&
        context.sources.inputs->token == claim->cloud_conf.token) {
      config::CloudConf conf = claim->cloud_conf;
      conf.token = outcome->token;
      absl::Status written = state_dir_.WriteClaim(conf);
      if (!written.ok()) {
        LogWarning(absl::StrCat("CLAIM: cannot record the new token in ",
                                state_dir_.CloudConfPath(), ": ",
                                written.message()));
      }
    }
    LoadLocked();
  }
  return outcome;
}

NodeState NodeController::ReloadClaimingState(absl::Duration wait) {
  const MonotonicTime deadline = clock_->MonotonicNow() + wait;
  {
    MutexLock op(&op_mu_);
    LogInfo("CLAIM: reloading claiming state");
    // A spool that did not open at start (an unwritable lib dir, since
    // fixed) is tried again.
    if (options_.publisher != nullptr &&
        options_.publisher->spool() == nullptr && options_.open_spool) {
      if (publish::Spool* spool = options_.open_spool()) {
        link_->AttachSpool(spool);
      }
    }
    claim_error_ = absl::OkStatus();
    claim_backoff_.Reset();
    {
      MutexLock lock(&worker_mu_);
      next_claim_attempt_ = MonotonicTime::InfiniteFuture();
    }
    ApplyConnectionSettingsLocked();
    LoadLocked();
    // A node online with the settings it would connect with now stays as
    // it is: config-management tools run this on every pass.
    if (GetState().first.claimed && !StartLinkLocked(/*keep_if_online=*/true) &&
        GetState().first.online) {
      LogInfo("CLAIM: nothing changed; the link stays up");
    }
  }
  KickWorker();
  // Wait for the outcome: online, banned, or (unclaimed) a claim failure or
  // nothing to claim with; else the state at the deadline. The state right
  // after the reload may already be the outcome (nothing to claim with), so
  // it is judged before waiting for a change.
  std::pair<NodeState, uint64_t> current = GetState();
  while (true) {
    const NodeState& state = current.first;
    const bool settled =
        state.online || state.status == kStatusBanned ||
        (!state.claimed && (state.claim_source.empty() ||
                            state.reason_name != reason::kClaimPending.name));
    const absl::Duration left = deadline - clock_->MonotonicNow();
    if (settled || left <= absl::ZeroDuration()) return state;
    current = WaitForStateChange(current.second, left);
  }
}

}  // namespace cloudlink::node

#include "server/node/node_controller.h"

#include "absl/strings/str_cat.h"
#include "server/claim/key_pair.h"
#include "server/claim/token_regenerator.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"
#include "server/config/claim_sources.h"
#include "server/config/ini_file.h"
#include "server/config/proxy.h"
#include "server/http/transport_for.h"

namespace cloudlink::node {
namespace {

constexpr mode_t kClaimConfMode = 0640;

// config_error text: claim.conf's problem, then the environment's.
std::string ConfigErrorText(const config::ClaimSourcesResult& sources) {
  std::string text;
  if (!sources.claim_conf_error.ok()) {
    text = std::string(sources.claim_conf_error.message());
  }
  if (!sources.env_error.ok()) {
    if (!text.empty()) text += "; ";
    text += std::string(sources.env_error.message());
  }
  return text;
}

// The reason behind ConfigErrorText (the first problem's), "" when none.
std::string ConfigErrorReason(const config::ClaimSourcesResult& sources) {
  return ReasonOf(sources.claim_conf_error.ok() ? sources.env_error
                                                : sources.claim_conf_error);
}

// Sets the state's reason text and name to `why`'s.
void SetReason(NodeState* state, const absl::Status& why) {
  state->reason = std::string(why.message());
  state->reason_name = ReasonOf(why);
}

// Sets the state's reason to "REASON: sentence".
void SetReason(NodeState* state, const Reason& reason,
               absl::string_view sentence) {
  state->reason = ErrorText(reason, sentence);
  state->reason_name = std::string(reason.name);
}

std::string RedactedProxy(absl::string_view raw) {
  absl::StatusOr<config::ProxyConfig> proxy = config::ParseProxy(raw);
  if (!proxy.ok()) return RedactUrlCredentials(raw);
  return proxy->Redacted();
}

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

NodeController::NodeController(NodeOptions options, state::FileSystem* fs,
                               http::HttpClient* http,
                               transport::WssConnector* wss)
    : options_(std::move(options)),
      clock_(options_.clock),
      fs_(fs),
      http_(http),
      state_dir_(options_.lib_dir, fs),
      claimer_(http, options_.claimer),
      claim_backoff_(options_.claim_retry) {
  link_ = std::make_unique<link::CloudLink>(
      http, wss, clock_,
      [this](const link::LinkStatus& status) { OnLinkStatus(status); },
      options_.publisher);
}

NodeController::~NodeController() {
  Stop();
  // Joins the link thread while everything it reports into is alive (it may
  // still be in an HTTPS call that Stop() did not wait for).
  link_.reset();
}

void NodeController::Start() {
  {
    MutexLock op(&op_mu_);
    LoadLocked();
    if (GetState().first.claimed) StartLinkLocked();
  }
  worker_ = std::thread([this] { WorkerLoop(); });
  KickWorker();
}

void NodeController::Stop() {
  {
    MutexLock lock(&worker_mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
  if (link_) link_->Stop();
}

void NodeController::StartLinkLocked() {
  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (!stored.ok() || !stored->has_value()) return;
  const state::StoredClaim& claim = **stored;
  link::LinkConfig config;
  config.claim_id = claim.claimed_id;
  config.url = config::CanonicalCloudUrl(claim.cloud_conf.url.empty()
                                             ? config::kDefaultCloudUrl
                                             : claim.cloud_conf.url);
  config.machine_guid = GetState().first.machine_guid;
  config.hostname = options_.hostname;
  config.node_id = GetState().first.node_id;
  config.proxy = claim.has_cloud_conf ? claim.cloud_conf.proxy
                                      : std::string(config::kDefaultProxy);
  config.insecure = claim.cloud_conf.insecure;
  config.ca_file = options_.cloud_ca;
  config.env = options_.env;
  absl::StatusOr<std::string> key = fs_->ReadFile(state_dir_.PrivateKeyPath());
  if (!key.ok()) {
    LogError(absl::StrCat(
        "LINK: cannot read the private key: ", key.status().message(),
        "; Reclaim to make a new one"));
    MutexLock lock(&mu_);
    SetReason(&base_, reason::kKeyMissing,
              absl::StrCat("cannot read ", state_dir_.PrivateKeyPath(),
                           "; Reclaim to make a new key pair"));
    ComposeLocked();
    return;
  }
  config.private_key_pem = *std::move(key);
  link_->Start(std::move(config));
}

void NodeController::OnLinkStatus(const link::LinkStatus& status) {
  bool new_node_id = false;
  {
    MutexLock lock(&mu_);
    new_node_id =
        !status.node_id.empty() && status.node_id != link_status_.node_id &&
        status.claim_id == base_.claimed_id && status.node_id != base_.node_id;
    link_status_ = status;
    ComposeLocked();
  }
  if (new_node_id) {
    // Stored by the worker: this is the link thread, which must not wait
    // for op_mu_ (a Reclaim holding it waits for the link).
    MutexLock lock(&worker_mu_);
    pending_node_id_ = PendingNodeId{status.claim_id, status.node_id};
    worker_kick_ = true;
  }
}

void NodeController::StoreNodeIdLocked(const PendingNodeId& pending) {
  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (!stored.ok() || !stored->has_value() ||
      (*stored)->claimed_id != pending.claim_id) {
    return;  // reclaimed meanwhile: the node id belonged to the old claim
  }
  absl::Status written = state_dir_.WriteNodeId(pending.node_id);
  if (!written.ok()) {
    LogWarning(absl::StrCat("STATE: cannot store the node id ", pending.node_id,
                            ": ", written.message(),
                            "; it is asked for again on the next connection"));
    return;
  }
  LogInfo(absl::StrCat("STATE: node id ", pending.node_id, " stored in ",
                       state_dir_.NodeIdPath()));
  LoadLocked();
}

void NodeController::ComposeLocked() {
  NodeState next = base_;
  const link::LinkStatus& l = link_status_;
  if (next.claimed && !l.node_id.empty() && l.claim_id == next.claimed_id) {
    next.node_id = l.node_id;
  }
  if (next.claimed && l.active) {
    next.online = l.online;
    next.mqtt_version = l.mqtt_version;
    if (l.banned) {
      next.status = kStatusBanned;
    } else if (l.online) {
      next.status = kStatusOnline;
    } else {
      next.status = kStatusOffline;
    }
    if (l.online) {
      next.reason.clear();
      next.reason_name.clear();
    } else if (!l.reason.empty()) {
      next.reason = l.reason;
      next.reason_name = l.reason_name;
    } else {
      SetReason(&next, reason::kConnecting, "connecting to the cloud");
    }
    next.next_attempt = l.next_attempt;
    next.last_backoff = l.last_backoff;
  }
  next.reconnect_count = l.connections > 0 ? l.connections - 1 : 0;
  next.last_connect = l.last_connect;
  next.last_disconnect = l.last_disconnect;
  next.publish.published = l.counters.published;
  next.publish.acked = l.counters.acked;
  next.publish.resent = l.publish_resent;
  next.publish.timed_out = l.publish_timed_out;
  next.publish.failed = l.counters.failed + l.publish_failed;
  next.publish.bytes = l.counters.bytes;
  next.publish.pending = l.in_flight + l.publish_held;
  next.publish.queued = l.queued;
  next.publish.latency_p50 = l.latency_p50;
  next.publish.latency_p99 = l.latency_p99;

  const NodeState& cur = state_;
  next.since = cur.since;  // derived below; not a change by itself
  if (next == cur && version_ > 1) return;
  if (cur.status != next.status || version_ == 1) {
    next.since = clock_->WallNow();
  }
  state_ = std::move(next);
  ++version_;
}

void NodeController::KickWorker() {
  MutexLock lock(&worker_mu_);
  worker_kick_ = true;
}

void NodeController::WorkerLoop() {
  while (true) {
    {
      MutexLock lock(&worker_mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(worker_mu_) {
        return stopping_ || worker_kick_;
      };
      // On the monotonic clock: a wall-clock step neither delays nor
      // hastens the next attempt.
      worker_mu_.AwaitWithTimeout(woken,
                                  next_claim_attempt_ - clock_->MonotonicNow());
      if (stopping_) return;
      if (!worker_kick_ && clock_->MonotonicNow() < next_claim_attempt_) {
        continue;
      }
      worker_kick_ = false;
      next_claim_attempt_ = MonotonicTime::InfiniteFuture();
    }

    MutexLock op(&op_mu_);
    absl::optional<PendingNodeId> node_id;
    {
      MutexLock lock(&worker_mu_);
      if (stopping_) return;
      node_id.swap(pending_node_id_);
    }
    if (node_id) StoreNodeIdLocked(*node_id);
    absl::StatusOr<absl::optional<state::StoredClaim>> stored =
        state_dir_.ReadClaim();
    if (!stored.ok() || stored->has_value()) continue;  // claimed, or broken
    if (!claim_error_.ok() && !claim::IsRetryable(claim_error_)) {
      continue;  // waits for ReloadClaimingState or a Claim RPC
    }
    config::ClaimSourcesResult sources =
        config::ResolveClaimInputs(options_.config_dir, options_.env);
    if (!sources.inputs) continue;
    LogInfo(absl::StrCat("CLAIM: claiming automatically with the token from ",
                         sources.inputs->source));
    absl::StatusOr<std::string> claimed = ClaimLocked(*sources.inputs);
    if (claimed.ok() || !claim::IsRetryable(claimed.status())) continue;
    const absl::Duration delay = claim_backoff_.Next();
    {
      MutexLock lock(&worker_mu_);
      next_claim_attempt_ = clock_->MonotonicNow() + delay;
    }
    LogInfo(absl::StrCat("CLAIM: next automatic attempt in ",
                         absl::FormatDuration(delay)));
    NodeState next = GetState().first;
    next.next_attempt = clock_->WallNow() + delay;  // for people
    next.last_backoff = delay;
    Publish(std::move(next));
  }
}

void NodeController::LoadLocked() {
  NodeState next;
  {
    MutexLock lock(&mu_);
    next = base_;
  }
  next.hostname = options_.hostname;
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

  absl::StatusOr<std::string> guid = state_dir_.LoadOrCreateMachineGuid();
  if (guid.ok()) {
    next.machine_guid = *guid;
  } else {
    next.machine_guid.clear();
    SetReason(&next, guid.status());
    LogError(absl::StrCat("STATE: ", guid.status().message()));
  }

  config::ClaimSourcesResult sources =
      config::ResolveClaimInputs(options_.config_dir, options_.env);
  next.config_error = ConfigErrorText(sources);
  if (!next.config_error.empty() &&
      next.config_error != GetState().first.config_error) {
    LogError(absl::StrCat("CLAIM: ", next.config_error));
  }
  next.claim_source = sources.inputs ? sources.inputs->source : "";

  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (!stored.ok()) {
    LogError(absl::StrCat("STATE: ", stored.status().message()));
    if (next.reason.empty()) SetReason(&next, stored.status());
  } else if (stored->has_value()) {
    const state::StoredClaim& claim = **stored;
    next.claimed = true;
    next.claimed_id = claim.claimed_id;
    absl::StatusOr<std::string> node_id = state_dir_.ReadNodeId();
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
    }
  }
  if (!next.claimed && sources.inputs) {
    next.url = sources.inputs->url;
    next.rooms = sources.inputs->rooms;
    next.insecure = sources.inputs->insecure;
    next.proxy = RedactedProxy(sources.inputs->proxy);
    next.proxy_source = sources.inputs->source;
  }
  {
    MutexLock lock(&worker_mu_);
    if (!next.claimed &&
        next_claim_attempt_ != MonotonicTime::InfiniteFuture()) {
      // Shown in wall time: when it is due by the wall clock as it reads now.
      next.next_attempt =
          clock_->WallNow() + (next_claim_attempt_ - clock_->MonotonicNow());
    }
  }

  if (next.claimed) {
    next.status = kStatusOffline;
    if (next.reason.empty()) {
      SetReason(&next, reason::kNotConnected,
                "claimed; the cloud link is not connected yet");
    }
  } else {
    next.status = kStatusAvailable;
    if (next.reason.empty()) {
      if (!claim_error_.ok()) {
        SetReason(&next, claim_error_);
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
  Publish(std::move(next));
}

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

void NodeController::Publish(NodeState next) {
  MutexLock lock(&mu_);
  base_ = std::move(next);
  ComposeLocked();
}

std::pair<NodeState, uint64_t> NodeController::GetState() const {
  std::pair<NodeState, uint64_t> result;
  {
    MutexLock lock(&mu_);
    result = {state_, version_};
  }
  if (options_.publisher != nullptr) {
    PublishStats& p = result.first.publish;
    const publish::QueueStats queue = options_.publisher->queue()->stats();
    p.queued += queue.queued;
    p.queued_bytes = queue.queued_bytes;
    p.rejected = queue.rejected;
    p.wait_timed_out = queue.wait_timed_out;
    if (const publish::Spool* spool = options_.publisher->spool()) {
      const publish::SpoolStats s = spool->stats();
      p.spooled = s.spooled;
      p.spool_bytes = s.bytes;
      p.rejected += s.rejected;
      p.wait_timed_out += s.wait_timed_out;
      p.spool_corrupt = s.corrupt;
      // A durable message the spool could not store was failed back to its
      // producer (SPOOL_WRITE_FAILED): it counts as failed.
      p.failed += s.write_failed;
    }
  }
  return result;
}

std::pair<NodeState, uint64_t> NodeController::WaitForStateChange(
    uint64_t seen_version, absl::Duration timeout) const {
  MutexLock lock(&mu_);
  auto changed = [this, seen_version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return version_ != seen_version;
  };
  mu_.AwaitWithTimeout(changed, timeout);
  return {state_, version_};
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
  // Defaults: the claim's url and proxy, else claim.conf's / the env's.
  std::string url = args.url;
  std::string proxy = args.proxy;
  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  config::ClaimSourcesResult sources =
      config::ResolveClaimInputs(options_.config_dir, options_.env);
  if (stored.ok() && stored->has_value() && (*stored)->has_cloud_conf) {
    if (url.empty()) url = (*stored)->cloud_conf.url;
    if (proxy.empty()) proxy = (*stored)->cloud_conf.proxy;
  }
  if (sources.inputs) {
    if (url.empty()) url = sources.inputs->url;
    if (proxy.empty()) proxy = sources.inputs->proxy;
  }
  if (url.empty()) url = config::kDefaultCloudUrl;
  if (proxy.empty()) proxy = config::kDefaultProxy;
  url = config::CanonicalCloudUrl(url);
  RETURN_IF_ERROR(config::ValidateClaimUrl(url));
  RETURN_IF_ERROR(config::ValidateClaimProxy(proxy));

  ASSIGN_OR_RETURN(http::TransportOptions transport,
                   http::TransportFor(proxy, options_.env, url, args.insecure,
                                      options_.cloud_ca));
  // The cloud revokes the old token the moment it issues a new one, so
  // everything that can be checked is checked first: a claim.conf that
  // cannot be read or does not parse fails here, with nothing changed.
  const std::string path = options_.config_dir + "/claim.conf";
  std::string claim_conf_text;
  if (args.update_claim_conf) {
    absl::StatusOr<std::string> text = fs_->ReadFile(path);
    if (!text.ok() && !absl::IsNotFound(text.status())) {
      return Error(
          absl::StatusCode::kFailedPrecondition, reason::kClaimConfWriteFailed,
          absl::StrCat(path, " cannot be read (", text.status().message(),
                       "); nothing was changed and the token was not "
                       "regenerated: fix the file, or call without "
                       "update_claim_conf"));
    }
    if (text.ok()) claim_conf_text = *std::move(text);
    absl::StatusOr<std::string> check =
        config::SetIniValue(claim_conf_text, path, "global", "token", "check");
    if (!check.ok()) {
      return Error(absl::StatusCode::kFailedPrecondition,
                   reason::kClaimConfWriteFailed,
                   absl::StrCat(check.status().message(),
                                "; nothing was changed and the token was not "
                                "regenerated"));
    }
  }
  claim::RegenerateParams params;
  params.url = url;
  params.space_id = args.space_id;
  params.api_token = args.api_token;
  params.transport = transport;
  ASSIGN_OR_RETURN(std::string token,
                   claim::RegenerateClaimToken(http_, params));

  RegenerateOutcome outcome;
  outcome.token = token;
  if (args.update_claim_conf) {
    absl::StatusOr<std::string> updated =
        config::SetIniValue(claim_conf_text, path, "global", "token", token);
    absl::Status written = updated.ok()
                               ? fs_->MakeDirs(options_.config_dir, 0755)
                               : updated.status();
    if (written.ok()) {
      // The file keeps its owner, group and mode (an administrator's 0600
      // root:grp stays that); a new one gets kClaimConfMode.
      absl::StatusOr<state::FileOwnership> ownership = fs_->Ownership(path);
      if (ownership.ok()) {
        written = fs_->WriteFileAtomicWithOwnership(path, *updated, *ownership);
      } else if (absl::IsNotFound(ownership.status())) {
        written = fs_->WriteFileAtomic(path, *updated, kClaimConfMode);
      } else {
        written = ownership.status();
      }
    }
    if (!written.ok()) {
      // The old token is gone: the answer still carries the new one, with
      // claim_conf_updated=false and why.
      LogError(absl::StrCat("CLAIM: could not update ", path, ": ",
                            written.message()));
      outcome.claim_conf_error = ErrorText(
          reason::kClaimConfWriteFailed,
          absl::StrCat("the new token was issued (the old one no longer "
                       "works) but ",
                       path, " could not be updated (", written.message(),
                       "); put the token from this answer in it"));
      return outcome;
    }
    outcome.claim_conf_updated = true;
    LogInfo(absl::StrCat("CLAIM: wrote the new token into ", path));
    LoadLocked();
  }
  return outcome;
}

NodeState NodeController::ReloadClaimingState(absl::Duration wait) {
  const MonotonicTime deadline = clock_->MonotonicNow() + wait;
  {
    MutexLock op(&op_mu_);
    LogInfo("CLAIM: reloading claiming state");
    claim_error_ = absl::OkStatus();
    claim_backoff_.Reset();
    {
      MutexLock lock(&worker_mu_);
      next_claim_attempt_ = MonotonicTime::InfiniteFuture();
    }
    LoadLocked();
    if (GetState().first.claimed) StartLinkLocked();
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

#include "server/node/node_controller.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/claim/key_pair.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/config/claim_sources.h"
#include "server/node/claim_drift.h"
#include "server/node/claim_state.h"
#include "server/node/compose_state.h"
#include "server/node/node_reason.h"

namespace cloudlink::node {
namespace {

// Whether a link running with `a` would connect as one with `b` does (the
// node id and the environment aside: the link learns the first, and the
// second is the daemon's own).
bool SameConnection(const link::LinkConfig& a, const link::LinkConfig& b) {
  return a.url == b.url && a.claim_id == b.claim_id &&
         a.machine_guid == b.machine_guid && a.hostname == b.hostname &&
         a.proxy == b.proxy && a.insecure == b.insecure &&
         a.ca_file == b.ca_file && a.private_key_pem == b.private_key_pem;
}

// `error` (code, reason and metadata kept) saying that it will be retried
// automatically in `delay`.
absl::Status WithRetryNote(const absl::Status& error, absl::Duration delay) {
  absl::Status noted(
      error.code(),
      absl::StrCat(error.message(), "; it will be retried automatically in ",
                   absl::FormatDuration(delay)));
  error.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    noted.SetPayload(url, payload);
  });
  return noted;
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
      options_.publisher, options_.takeover);
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
    ApplyConnectionSettingsLocked();
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

bool NodeController::ApplyConnectionSettingsLocked() {
  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (!stored.ok() || !stored->has_value() || !(*stored)->has_cloud_conf) {
    return false;
  }
  config::CloudConf conf = (*stored)->cloud_conf;
  if (!ConnectionFollowsSources(conf)) return false;
  config::ClaimSourcesResult sources =
      config::ResolveClaimInputs(options_.config_dir, options_.env);
  if (!sources.inputs) return false;
  const ClaimDrift drift = CompareWithClaim(conf, *sources.inputs);
  if (drift.connection_keys.empty()) return false;
  conf.proxy = sources.inputs->proxy;
  conf.insecure = sources.inputs->insecure;
  if (conf.source.empty()) conf.source = sources.inputs->source;
  absl::Status written = state_dir_.WriteClaim(conf);
  if (!written.ok()) {
    LogError(absl::StrCat("CLAIM: cannot store the new ",
                          absl::StrJoin(drift.connection_keys, " and "),
                          " from ", sources.inputs->source, ": ",
                          written.message(), "; the link keeps the old one"));
    return false;
  }
  LogInfo(absl::StrCat(
      "CLAIM: applying ", absl::StrJoin(drift.connection_keys, " and "),
      " from ", sources.inputs->source, " (proxy ", RedactedProxy(conf.proxy),
      ", insecure ", conf.insecure ? "yes" : "no", "); stored in ",
      state_dir_.CloudConfPath(), ", no reclaim needed"));
  return true;
}

bool NodeController::StartLinkLocked(bool keep_if_online) {
  absl::StatusOr<absl::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (!stored.ok() || !stored->has_value()) return false;
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
    return false;
  }
  config.private_key_pem = *std::move(key);
  if (keep_if_online && running_link_.has_value() &&
      SameConnection(*running_link_, config) && GetState().first.online) {
    return false;
  }
  const bool new_claim =
      !running_link_.has_value() || running_link_->claim_id != config.claim_id;
  running_link_ = config;
  link_->Start(std::move(config));
  {
    // The link clears a ban when it starts; show that at once, so that a
    // caller waiting for the outcome (ReloadClaimingState) does not take
    // the old ban, still in the last report, for the new one.
    // Likewise a new claim's status (CloudLink::Start resets it at once):
    // the reclaim's reply describes the new claim, not the old session.
    const link::LinkStatus now = link_->status();
    MutexLock lock(&mu_);
    if (new_claim) link_status_ = now;
    link_status_.banned = false;
    ComposeLocked();
  }
  return true;
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
  NodeState next = ComposeNodeState(base_, link_status_);
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
    // Only now, with a retry scheduled, does the reason say so.
    claim_error_ = WithRetryNote(claim_error_, delay);
    LogInfo(absl::StrCat("CLAIM: next automatic attempt in ",
                         absl::FormatDuration(delay)));
    NodeState next = GetState().first;
    if (!next.claimed && next.reason_name == ReasonOf(claim_error_)) {
      SetReason(&next, claim_error_);
    }
    next.next_attempt = clock_->WallNow() + delay;  // for people
    next.last_backoff = delay;
    Publish(std::move(next));
  }
}

void NodeController::LoadLocked() {
  ClaimStateInputs inputs;
  inputs.hostname = options_.hostname;
  inputs.sources =
      config::ResolveClaimInputs(options_.config_dir, options_.env);
  inputs.claim_error = claim_error_;
  {
    MutexLock lock(&worker_mu_);
    if (next_claim_attempt_ != MonotonicTime::InfiniteFuture()) {
      // Shown in wall time: when it is due by the wall clock as it reads now.
      inputs.next_claim_attempt =
          clock_->WallNow() + (next_claim_attempt_ - clock_->MonotonicNow());
    }
  }
  NodeState previous;
  {
    MutexLock lock(&mu_);
    previous = base_;
  }
  const std::string previous_config_error = GetState().first.config_error;
  NodeState next = ReadClaimState(std::move(previous), state_dir_, inputs);
  if (!next.config_error.empty() &&
      next.config_error != previous_config_error) {
    LogError(absl::StrCat("CLAIM: ", next.config_error));
  }
  Publish(std::move(next));
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

}  // namespace cloudlink::node

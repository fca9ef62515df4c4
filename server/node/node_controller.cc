#include "server/node/node_controller.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/redact.h"
#include "server/config/claim_sources.h"
#include "server/config/proxy.h"

namespace cloudlink::node {
namespace {

// "claim.conf: <message>" lines for config_error, secrets never included
// (the config part never puts them in messages).
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

std::string RedactedProxy(absl::string_view raw) {
  absl::StatusOr<config::ProxyConfig> proxy = config::ParseProxy(raw);
  if (!proxy.ok()) return RedactUrlCredentials(raw);
  return proxy->Redacted();
}

}  // namespace

NodeController::NodeController(NodeOptions options, state::FileSystem* fs)
    : options_(std::move(options)), fs_(fs), state_dir_(options_.lib_dir, fs) {}

NodeController::~NodeController() { Stop(); }

void NodeController::Start() {
  absl::MutexLock op(&op_mu_);
  LoadLocked();
}

void NodeController::Stop() {}

void NodeController::LoadLocked() {
  NodeState next;
  {
    absl::MutexLock lock(&mu_);
    next = state_;
  }
  next.hostname = options_.hostname;
  next.claimed = false;
  next.claimed_id.clear();
  next.rooms.clear();
  next.url.clear();
  next.proxy.clear();
  next.proxy_source.clear();
  next.insecure = false;
  std::string reason;

  absl::StatusOr<std::string> guid = state_dir_.LoadOrCreateMachineGuid();
  if (guid.ok()) {
    next.machine_guid = *guid;
  } else {
    next.machine_guid.clear();
    reason = std::string(guid.status().message());
    LogError(absl::StrCat("STATE: ", guid.status().message()));
  }

  config::ClaimSourcesResult sources =
      config::ResolveClaimInputs(options_.config_dir, options_.env);
  next.config_error = ConfigErrorText(sources);
  if (!next.config_error.empty()) {
    LogError(absl::StrCat("CLAIM: ", next.config_error));
  }
  next.claim_source = sources.inputs ? sources.inputs->source : "";

  absl::StatusOr<std::optional<state::StoredClaim>> stored =
      state_dir_.ReadClaim();
  if (!stored.ok()) {
    LogError(absl::StrCat("STATE: ", stored.status().message()));
    if (reason.empty()) reason = std::string(stored.status().message());
  } else if (stored->has_value()) {
    const state::StoredClaim& claim = **stored;
    next.claimed = true;
    next.claimed_id = claim.claimed_id;
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

  if (next.claimed) {
    next.status = kStatusOffline;
    if (reason.empty()) {
      reason = "NOT_CONNECTED: claimed; the cloud link is not connected yet";
    }
  } else {
    next.status = kStatusAvailable;
    if (reason.empty()) {
      if (!next.config_error.empty()) {
        reason = next.config_error;
      } else if (sources.inputs) {
        reason = absl::StrCat("NOT_CLAIMED: claim inputs found in ",
                              sources.inputs->source,
                              "; claiming is not available in this build yet");
      } else {
        reason =
            "NOT_CLAIMED: the node is not claimed; create claim.conf, set "
            "NETDATA_CLAIM_TOKEN, or call Claim";
      }
    }
  }
  next.reason = reason;
  Publish(std::move(next));
}

void NodeController::Publish(NodeState next) {
  absl::MutexLock lock(&mu_);
  const NodeState& cur = state_;
  const bool changed =
      cur.claimed != next.claimed || cur.claimed_id != next.claimed_id ||
      cur.machine_guid != next.machine_guid || cur.node_id != next.node_id ||
      cur.url != next.url || cur.rooms != next.rooms ||
      cur.proxy != next.proxy || cur.proxy_source != next.proxy_source ||
      cur.insecure != next.insecure || cur.status != next.status ||
      cur.reason != next.reason || cur.online != next.online ||
      cur.mqtt_version != next.mqtt_version ||
      cur.reconnect_count != next.reconnect_count ||
      cur.last_connect != next.last_connect ||
      cur.last_disconnect != next.last_disconnect ||
      cur.next_attempt != next.next_attempt ||
      cur.last_backoff != next.last_backoff ||
      cur.claim_source != next.claim_source ||
      cur.config_error != next.config_error || cur.hostname != next.hostname;
  if (!changed && version_ > 1) return;
  if (cur.status != next.status || version_ == 1) next.since = absl::Now();
  state_ = std::move(next);
  ++version_;
}

std::pair<NodeState, uint64_t> NodeController::GetState() const {
  absl::MutexLock lock(&mu_);
  return {state_, version_};
}

std::pair<NodeState, uint64_t> NodeController::WaitForStateChange(
    uint64_t seen_version, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto changed = [this, seen_version]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return version_ != seen_version;
  };
  mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
  return {state_, version_};
}

absl::StatusOr<ClaimOutcome> NodeController::Claim(const ClaimArgs&) {
  return Error(absl::StatusCode::kUnimplemented, "NOT_IMPLEMENTED",
               "claiming is not available in this build yet");
}

absl::StatusOr<ReclaimOutcome> NodeController::Reclaim(bool, const ClaimArgs&) {
  return Error(absl::StatusCode::kUnimplemented, "NOT_IMPLEMENTED",
               "reclaiming is not available in this build yet");
}

absl::StatusOr<RegenerateOutcome> NodeController::RegenerateToken(
    const RegenerateArgs&) {
  return Error(absl::StatusCode::kUnimplemented, "NOT_IMPLEMENTED",
               "token regeneration is not available in this build yet");
}

NodeState NodeController::ReloadClaimingState(absl::Duration) {
  absl::MutexLock op(&op_mu_);
  LoadLocked();
  return GetState().first;
}

}  // namespace cloudlink::node

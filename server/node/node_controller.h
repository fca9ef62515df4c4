#pragma once

// The node's claim and link lifecycle: the one place that decides. It reads
// the claim inputs (config), claims (claim), stores the result (state) and
// runs the link; the API layer only translates RPCs into calls on it.
//
// Thread-safe. Mutating calls (Claim, Reclaim, RegenerateToken,
// ReloadClaimingState) are serialized: a second caller waits for the first
// to finish, so no caller ever sees or causes a torn state.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "server/claim/claimer.h"
#include "server/common/backoff.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/config/claim_inputs.h"
#include "server/config/environment.h"
#include "server/http/http_client.h"
#include "server/link/cloud_link.h"
#include "server/node/node_state.h"
#include "server/node/token_regeneration.h"
#include "server/publish/publisher.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::node {

struct NodeOptions {
  std::string config_dir;  // holds claim.conf
  std::string lib_dir;     // holds registry/ and cloud.d/
  std::string cloud_ca;  // PEM file of extra trusted CAs for the cloud; "" none
  config::Environment env;  // NETDATA_CLAIM_*, http_proxy, ...
  std::string hostname;     // sent to the cloud
  // Pauses between the claimer's attempts (tests shorten them).
  claim::Claimer::Options claimer;
  // Backoff between automatic claim rounds after retryable failures.
  BackoffParams claim_retry = {2, absl::Seconds(10), absl::Minutes(10)};
  // The controller's and its cloud link's time: wall time for the state's
  // timestamps, monotonic time for the claim retry schedule and every wait.
  // Must outlive the controller.
  Clock* clock = RealClock();
  // The publish path the link drains; nullptr: none. Must
  // outlive the controller. GetState reads its queue and spool counters.
  publish::Publisher* publisher = nullptr;
  // Called by ReloadClaimingState while `publisher` has no spool (it did
  // not open at start): returns a spool opened now, which the caller owns
  // and keeps alive as long as the controller, or nullptr (having logged
  // why). Empty: no retry.
  std::function<publish::Spool*()> open_spool;
  // The cloud link's clone detection (link/takeover_guard.h).
  link::TakeoverGuard::Params takeover;
};

// Claim values given by an RPC. Empty fields take the claim defaults
// (config/claim_inputs.h).
struct ClaimArgs {
  std::string token;
  std::vector<std::string> rooms;
  std::string url;
  std::string proxy;
  bool insecure = false;
};

struct ClaimOutcome {
  std::string claimed_id;
  bool already_claimed = false;
};

struct ReclaimOutcome {
  std::string claimed_id;
  std::string machine_guid;
};

class NodeController {
 public:
  // `fs`, `http` and `wss` must outlive the controller.
  NodeController(NodeOptions options, state::FileSystem* fs,
                 http::HttpClient* http, transport::WssConnector* wss);
  ~NodeController();
  NodeController(const NodeController&) = delete;
  NodeController& operator=(const NodeController&) = delete;

  // Loads the machine GUID (creating it when missing), the stored claim and
  // the claim inputs, and starts the background worker, which claims
  // automatically when the node is unclaimed and claim.conf or the
  // environment supply a token (retrying retryable failures with backoff).
  // Bad or missing input never fails the start: it shows in the state's
  // reason and config_error.
  void Start();

  // Stops background work (claim retries, the link). Idempotent.
  void Stop();

  // The current state and its version (which grows on every change). The
  // queue and spool counters are read live (their changes alone do not
  // bump the version).
  std::pair<NodeState, uint64_t> GetState() const;

  // Waits until the state version differs from `seen_version` or for
  // `timeout` (measured on the monotonic clock), then returns the current
  // state and version.
  std::pair<NodeState, uint64_t> WaitForStateChange(
      uint64_t seen_version, absl::Duration timeout) const;

  // Claims with `args` (see the Claim RPC): INVALID_ARGUMENT naming the
  // field for bad input; OK with already_claimed when claimed with the same
  // token and url; FAILED_PRECONDITION CLAIMED_ELSEWHERE when claimed with
  // other values; otherwise the claimer's errors.
  absl::StatusOr<ClaimOutcome> Claim(const ClaimArgs& args);

  // Validates the inputs first (nothing is removed for bad input), then
  // removes cloud.d/ (and the machine GUID when `new_identity`) and claims
  // with `args`, or with claim.conf / the environment when args.token is
  // empty (FAILED_PRECONDITION NO_CLAIM_INPUTS when neither has a token).
  absl::StatusOr<ReclaimOutcome> Reclaim(bool new_identity,
                                         const ClaimArgs& args);

  // Regenerates the Space's claim token; with update_claim_conf rewrites
  // the token in claim.conf, keeping its other lines (token_regeneration.h).
  absl::StatusOr<RegenerateOutcome> RegenerateToken(const RegenerateArgs& args);

  // Re-reads claim.conf and the environment, claims when unclaimed, applies
  // changed connection settings (proxy, insecure; claim_drift.h), clears a
  // ban and reconnects; waits up to `wait` for the node to be online. A node
  // that is online and whose settings did not change stays connected (a
  // no-op).
  NodeState ReloadClaimingState(absl::Duration wait);

 private:
  // A node id the link learned, for the worker to store in cloud.d when
  // `claim_id` is still the stored claim.
  struct PendingNodeId {
    std::string claim_id;
    std::string node_id;
  };

  // Re-reads identity, stored claim and claim inputs into the state.
  void LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_);
  // Claims with `inputs` (validated) and commits the result; records a
  // failure in the state.
  absl::StatusOr<std::string> ClaimLocked(const config::ClaimInputs& inputs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_);
  // The worker: automatic claims and their retries, and storing the node id.
  void WorkerLoop();
  // Stores a node id the link learned.
  void StoreNodeIdLocked(const PendingNodeId& pending)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_);
  // Asks the worker to look at the state again now.
  void KickWorker();
  // Replaces the claim part of the state with `next`, bumping the version
  // when the composed state changed.
  void Publish(NodeState next);
  // Starts (or restarts) the link for the stored claim; true when it did.
  // With `keep_if_online`, a link that is online with the same connection
  // settings is left alone.
  bool StartLinkLocked(bool keep_if_online = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_);
  // Stores the proxy and insecure of claim.conf / the environment in
  // cloud.conf when the claim's connection settings follow them and differ
  // (claim_drift.h); true when it did.
  bool ApplyConnectionSettingsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_);
  // The link thread's status reports.
  void OnLinkStatus(const link::LinkStatus& status);
  // state_ = base_ with the link's view laid over it (compose_state.h).
  void ComposeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const NodeOptions options_;
  Clock* const clock_;
  state::FileSystem* const fs_;
  http::HttpClient* const http_;
  state::StateDir state_dir_;
  claim::Claimer claimer_;

  // Serializes mutating operations (held for their whole duration).
  Mutex op_mu_;
  // The last claim failure; shown as the reason while unclaimed, cleared by
  // a successful claim and by ReloadClaimingState.
  absl::Status claim_error_ ABSL_GUARDED_BY(op_mu_);
  // The settings the link was last started with; nullopt after a Reclaim
  // stopped it.
  absl::optional<link::LinkConfig> running_link_ ABSL_GUARDED_BY(op_mu_);
  Backoff claim_backoff_ ABSL_GUARDED_BY(op_mu_);

  // Worker control.
  Mutex worker_mu_;
  bool worker_kick_ ABSL_GUARDED_BY(worker_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(worker_mu_) = false;
  // When the worker claims again, on clock_'s monotonic time; InfiniteFuture:
  // not scheduled.
  MonotonicTime next_claim_attempt_ ABSL_GUARDED_BY(worker_mu_) =
      MonotonicTime::InfiniteFuture();
  absl::optional<PendingNodeId> pending_node_id_ ABSL_GUARDED_BY(worker_mu_);
  std::thread worker_;

  mutable Mutex mu_;
  NodeState base_ ABSL_GUARDED_BY(mu_);  // claim part
  link::LinkStatus link_status_ ABSL_GUARDED_BY(mu_);
  NodeState state_ ABSL_GUARDED_BY(mu_);  // composed
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 1;

  // Last member, so it is destroyed first: its thread reports into every
  // member above until the link's destructor has joined it.
  std::unique_ptr<link::CloudLink> link_;
};

}  // namespace cloudlink::node

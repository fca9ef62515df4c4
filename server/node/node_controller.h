#pragma once

// The node's claim and link lifecycle: the one place that decides. It reads
// the claim inputs (config), claims (claim), stores the result (state) and
// runs the link; the API layer only translates RPCs into calls on it.
//
// Thread-safe. Mutating calls (Claim, Reclaim, RegenerateToken,
// ReloadClaimingState) are serialized: a second caller waits for the first
// to finish, so no caller ever sees or causes a torn state.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/environment.h"
#include "server/node/node_state.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"

namespace cloudlink::node {

struct NodeOptions {
  std::string config_dir;  // holds claim.conf
  std::string lib_dir;     // holds registry/ and cloud.d/
  std::string cloud_ca;    // PEM file of extra trusted CAs for the cloud; "" none
  config::Environment env;  // NETDATA_CLAIM_*, http_proxy, ...
  std::string hostname;     // sent to the cloud
};

// Claim values given by an RPC. Empty fields take the defaults of SPEC 3.
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

struct RegenerateArgs {
  std::string space_id;
  std::string api_token;
  std::string url;
  std::string proxy;
  bool update_claim_conf = false;
  bool insecure = false;
};

struct RegenerateOutcome {
  std::string token;
  bool claim_conf_updated = false;
};

class NodeController {
 public:
  // `fs` must outlive the controller.
  NodeController(NodeOptions options, state::FileSystem* fs);
  ~NodeController();
  NodeController(const NodeController&) = delete;
  NodeController& operator=(const NodeController&) = delete;

  // Loads the machine GUID (creating it when missing), the stored claim and
  // the claim inputs. Bad or missing input never fails the start: it shows
  // in the state's reason and config_error.
  void Start();

  // Stops background work (claim retries, the link). Idempotent.
  void Stop();

  // The current state and its version (which grows on every change).
  std::pair<NodeState, uint64_t> GetState() const;

  // Waits until the state version differs from `seen_version` or until
  // `deadline`, then returns the current state and version.
  std::pair<NodeState, uint64_t> WaitForStateChange(uint64_t seen_version,
                                                    absl::Time deadline) const;

  absl::StatusOr<ClaimOutcome> Claim(const ClaimArgs& args);
  absl::StatusOr<ReclaimOutcome> Reclaim(bool new_identity,
                                         const ClaimArgs& args);
  absl::StatusOr<RegenerateOutcome> RegenerateToken(const RegenerateArgs& args);

  // Re-reads claim.conf and the environment, claims when unclaimed, clears a
  // ban and reconnects; waits up to `wait` for the node to be online.
  NodeState ReloadClaimingState(absl::Duration wait);

 private:
  // Re-reads identity, stored claim and claim inputs into the state.
  void LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(op_mu_);
  // Replaces the state with `next`, bumping the version when it changed.
  void Publish(NodeState next);

  const NodeOptions options_;
  state::FileSystem* const fs_;
  state::StateDir state_dir_;

  // Serializes mutating operations (held for their whole duration).
  absl::Mutex op_mu_;

  mutable absl::Mutex mu_;
  NodeState state_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace cloudlink::node

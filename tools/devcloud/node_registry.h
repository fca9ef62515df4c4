#pragma once

// The nodes claimed into the dev cloud's Spaces, kept in DIR/nodes.json so a
// restarted dev cloud still knows them (their login needs the public key).
// A node is identified by its claim id; its machine GUID is unique too: a
// claim with a known machine GUID moves the node and forgets the old claim id.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/state/file_system.h"

namespace cloudlink::devcloud {

// "created" until the node first reports itself reachable; then "online" /
// "offline" from its UpdateAgentConnection messages (and its will).
enum class NodeState { kCreated, kOnline, kOffline };

// "created", "online" or "offline".
const char* NodeStateName(NodeState state);

struct Node {
  std::string claim_id;  // lowercase UUID
  std::string hostname;
  std::string machine_guid;  // lowercase UUID
  std::string space_id;
  std::vector<std::string> rooms;
  std::string public_key_pem;
  NodeState state = NodeState::kCreated;
};

// The node id the dev cloud gives a node's instance (its answer to
// CreateNodeInstance): a UUID derived from the Space and the machine GUID, so
// it is stable across reconnects, restarts and reclaims into the same Space,
// as the real cloud's node ids are.
std::string NodeInstanceId(absl::string_view space_id,
                           absl::string_view machine_guid);

// Thread-safe; every change of the claimed set is persisted atomically
// (state changes are not: after a restart an online node counts as offline).
class NodeRegistry {
 public:
  // Loads `path` (a missing file means no nodes); it is read and written
  // through `fs`, which must outlive the registry. Errors: CONFIG_INVALID for
  // a file that is not a node list, or the error of FileSystem::ReadFile.
  static absl::StatusOr<std::unique_ptr<NodeRegistry>> Open(
      const std::string& path, state::FileSystem* fs);

  // Stores `node`. ALREADY_EXISTS (ALREADY_CLAIMED) when its claim id is
  // taken; otherwise any node with the same machine GUID is removed first
  // (the node moved). A write error (FileSystem::WriteFileAtomic) leaves the
  // registry unchanged.
  absl::Status Add(Node node);

  absl::optional<Node> Find(absl::string_view claim_id) const;
  // The nodes of `space_id`, in claim order.
  std::vector<Node> InSpace(absl::string_view space_id) const;
  // Sets the state of `claim_id`; false when unknown.
  bool SetState(absl::string_view claim_id, NodeState state);

 private:
  NodeRegistry(std::string path, state::FileSystem* fs)
      : path_(std::move(path)), fs_(fs) {}
  absl::Status PersistLocked(const std::vector<Node>& nodes) const;

  const std::string path_;
  state::FileSystem* const fs_;
  mutable std::mutex mu_;
  std::vector<Node> nodes_;  // guarded by mu_
};

}  // namespace cloudlink::devcloud

#include "tools/devcloud/node_registry.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"
#include "server/common/status_macros.h"
#include "server/common/uuid.h"

namespace cloudlink::devcloud {

using nlohmann::json;

const char* NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kCreated:
      return "created";
    case NodeState::kOnline:
      return "online";
    case NodeState::kOffline:
      return "offline";
  }
  return "created";
}

absl::StatusOr<std::unique_ptr<NodeRegistry>> NodeRegistry::Open(
    const std::string& path, state::FileSystem* fs) {
  std::unique_ptr<NodeRegistry> registry(new NodeRegistry(path, fs));
  absl::StatusOr<std::string> text = fs->ReadFile(path);
  if (absl::IsNotFound(text.status())) return registry;
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nodes") ||
      !doc["nodes"].is_array()) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kConfigInvalid,
                 absl::StrCat(path, " is not a node list"));
  }
  for (const json& n : doc["nodes"]) {
    if (!n.is_object()) continue;
    Node node;
    node.claim_id = n.value("claimId", "");
    node.hostname = n.value("hostname", "");
    node.machine_guid = n.value("machineGuid", "");
    node.space_id = n.value("spaceId", "");
    node.rooms = n.value("rooms", std::vector<std::string>{});
    node.public_key_pem = n.value("publicKey", "");
    node.state = n.value("everOnline", false) ? NodeState::kOffline
                                              : NodeState::kCreated;
    registry->nodes_.push_back(std::move(node));
  }
  return registry;
}

absl::Status NodeRegistry::PersistLocked(const std::vector<Node>& nodes) const {
  json doc;
  doc["nodes"] = json::array();
  for (const Node& n : nodes) {
    doc["nodes"].push_back({{"claimId", n.claim_id},
                            {"hostname", n.hostname},
                            {"machineGuid", n.machine_guid},
                            {"spaceId", n.space_id},
                            {"rooms", n.rooms},
                            {"publicKey", n.public_key_pem},
                            {"everOnline", n.state != NodeState::kCreated}});
  }
  return fs_->WriteFileAtomic(path_, doc.dump(2) + "\n", 0600);
}

std::string NodeInstanceId(absl::string_view space_id,
                           absl::string_view machine_guid) {
  const std::string input = absl::StrCat("devcloud-node-instance:", space_id,
                                         ":", LowercaseUuid(machine_guid));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  // Version 8 (custom), RFC 4122 variant.
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x80);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
    absl::StrAppendFormat(&hex, "%02x", digest[i]);
  }
  return hex;
}

absl::Status NodeRegistry::Add(Node node) {
  node.claim_id = LowercaseUuid(node.claim_id);
  node.machine_guid = LowercaseUuid(node.machine_guid);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Node> updated;
  for (const Node& existing : nodes_) {
    if (existing.claim_id == node.claim_id) {
      return Error(absl::StatusCode::kAlreadyExists, reason::kAlreadyClaimed,
                   "this claim id is already claimed");
    }
    if (existing.machine_guid != node.machine_guid) updated.push_back(existing);
  }
  updated.push_back(std::move(node));
  RETURN_IF_ERROR(PersistLocked(updated));
  nodes_ = std::move(updated);
  return absl::OkStatus();
}

absl::optional<Node> NodeRegistry::Find(absl::string_view claim_id) const {
  std::string id = LowercaseUuid(claim_id);
  std::lock_guard<std::mutex> lock(mu_);
  for (const Node& n : nodes_) {
    if (n.claim_id == id) return n;
  }
  return absl::nullopt;
}

std::vector<Node> NodeRegistry::InSpace(absl::string_view space_id) const {
  std::string id = LowercaseUuid(space_id);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Node> out;
  for (const Node& n : nodes_) {
    if (n.space_id == id) out.push_back(n);
  }
  return out;
}

bool NodeRegistry::SetState(absl::string_view claim_id, NodeState state) {
  std::string id = LowercaseUuid(claim_id);
  std::lock_guard<std::mutex> lock(mu_);
  for (Node& n : nodes_) {
    if (n.claim_id == id) {
      n.state = state;
      return true;
    }
  }
  return false;
}

}  // namespace cloudlink::devcloud

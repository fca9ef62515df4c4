#pragma once

// The node's state directory, under --lib-dir:
//
//   registry/netdata.public.unique.id   machine GUID            0644
//   cloud.d/private.pem, public.pem     RSA key pair            0600 / 0644
//   cloud.d/claimed_id                  claim id                0644
//   cloud.d/cloud.conf                  the claim's settings    0600
//   cloud.d/node_id                     the cloud's node id     0644
//
// Every write is atomic (FileSystem::WriteFileAtomic). A claim is committed
// by one rename, of cloud.conf (which carries claimed_id); claimed_id is
// written after it and repaired from cloud.conf on read (a repair that fails
// is logged and tried again on the next read), so a crash or a failed write
// at any point leaves the old claim or the new one, never a mix.
//
// Not thread-safe: the node controller serializes all calls.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/config/cloud_conf.h"
#include "server/state/file_system.h"

namespace cloudlink::state {

// A claim read back from cloud.d/.
struct StoredClaim {
  std::string claimed_id;  // lowercase UUID
  // The settings of the claim. Only claimed_id is set when cloud.d holds a
  // claimed_id without cloud.conf (made by hand or by an older agent).
  config::CloudConf cloud_conf;
  bool has_cloud_conf = false;
};

class StateDir {
 public:
  // `fs` must outlive the StateDir.
  StateDir(std::string lib_dir, FileSystem* fs);

  const std::string& lib_dir() const { return lib_dir_; }
  std::string CloudDir() const;
  std::string MachineGuidPath() const;
  std::string ClaimedIdPath() const;
  std::string CloudConfPath() const;
  std::string PrivateKeyPath() const;
  std::string PublicKeyPath() const;
  std::string NodeIdPath() const;

  // The machine GUID; created (random UUIDv4) when the file is missing. A
  // file that exists but is unreadable or not a UUID is MACHINE_GUID_INVALID
  // and is left alone: only ReplaceMachineGuid (Reclaim with a new identity)
  // replaces it.
  absl::StatusOr<std::string> LoadOrCreateMachineGuid();

  // Writes a new random machine GUID, replacing any file. Returns it, or
  // UNAVAILABLE STATE_WRITE_FAILED when it cannot be stored.
  absl::StatusOr<std::string> ReplaceMachineGuid();

  // The committed claim, or nullopt when the node is unclaimed (no cloud.d,
  // or neither cloud.conf nor claimed_id in it). Errors: STATE_INVALID when
  // cloud.conf or claimed_id exist but cannot be read or parsed (the caller
  // reports it and treats the node as unclaimed; nothing is deleted).
  absl::StatusOr<absl::optional<StoredClaim>> ReadClaim();

  // Commits a claim: `conf.claimed_id` must be set. Creates cloud.d (0700).
  absl::Status WriteClaim(const config::CloudConf& conf);

  // The node id the cloud gave the current claim, "" when none is stored.
  // STATE_INVALID when the file exists but cannot be read or does not hold
  // a node id (IsValidNodeId).
  absl::StatusOr<std::string> ReadNodeId();

  // Stores the current claim's node id (atomic). INVALID_ARGUMENT for a
  // value that is not IsValidNodeId.
  absl::Status WriteNodeId(absl::string_view node_id);

  // Unclaims: removes cloud.d/ with everything in it (keys included).
  absl::Status RemoveCloudDir();

  // Creates cloud.d/ (0700) when missing.
  absl::Status EnsureCloudDir();

 private:
  std::string lib_dir_;
  FileSystem* fs_;
};

}  // namespace cloudlink::state

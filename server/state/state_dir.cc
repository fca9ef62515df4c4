#include "server/state/state_dir.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/common/uuid.h"

namespace cloudlink::state {
namespace {

constexpr mode_t kCloudDirMode = 0700;
constexpr mode_t kRegistryDirMode = 0755;
constexpr mode_t kMachineGuidMode = 0644;
constexpr mode_t kClaimedIdMode = 0644;
constexpr mode_t kCloudConfMode = 0600;
constexpr mode_t kNodeIdMode = 0644;

// `path` made absolute against the working directory, for messages (a
// relative --lib-dir makes relative paths otherwise).
std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

// STATE_WRITE_FAILED for a directory of the lib dir that cannot be made.
absl::Status DirNotWritable(const std::string& dir, const absl::Status& why) {
  return Error(
      absl::StatusCode::kUnavailable, reason::kStateWriteFailed,
      absl::StrCat("cannot create ", AbsolutePath(dir), " (", why.message(),
                   "): the lib directory must be writable by cloudlinkd; fix "
                   "its owner and mode (or free space), then run "
                   "`cloudlinkctl reload-claiming-state`"));
}

absl::Status StateInvalid(const std::string& path, absl::string_view problem) {
  return Error(
      absl::StatusCode::kFailedPrecondition, reason::kStateInvalid,
      absl::StrCat(path, ": ", problem,
                   "; run Reclaim to start over, or restore the file"));
}

}  // namespace

StateDir::StateDir(std::string lib_dir, FileSystem* fs)
    : lib_dir_(std::move(lib_dir)), fs_(fs) {}

std::string StateDir::CloudDir() const { return lib_dir_ + "/cloud.d"; }
std::string StateDir::MachineGuidPath() const {
  return lib_dir_ + "/registry/netdata.public.unique.id";
}
std::string StateDir::ClaimedIdPath() const {
  return CloudDir() + "/claimed_id";
}
std::string StateDir::CloudConfPath() const {
  return CloudDir() + "/cloud.conf";
}
std::string StateDir::PrivateKeyPath() const {
  return CloudDir() + "/private.pem";
}
std::string StateDir::PublicKeyPath() const {
  return CloudDir() + "/public.pem";
}
std::string StateDir::NodeIdPath() const { return CloudDir() + "/node_id"; }

absl::StatusOr<std::string> StateDir::ReadNodeId() {
  absl::StatusOr<std::string> text = fs_->ReadFile(NodeIdPath());
  if (absl::IsNotFound(text.status())) return std::string();
  if (!text.ok()) return StateInvalid(NodeIdPath(), text.status().message());
  const std::string node_id(absl::StripAsciiWhitespace(*text));
  if (!IsValidNodeId(node_id))
    return StateInvalid(NodeIdPath(), "not a node id");
  return node_id;
}

absl::Status StateDir::WriteNodeId(absl::string_view node_id) {
  if (!IsValidNodeId(node_id)) {
    return Error(
        absl::StatusCode::kInvalidArgument, reason::kStateInvalid,
        absl::StrCat("refusing to store \"", node_id, "\" as the node id"));
  }
  RETURN_IF_ERROR(EnsureCloudDir());
  return fs_->WriteFileAtomic(NodeIdPath(), absl::StrCat(node_id, "\n"),
                              kNodeIdMode);
}

absl::StatusOr<std::string> StateDir::LoadOrCreateMachineGuid() {
  const std::string path = MachineGuidPath();
  absl::StatusOr<std::string> content = fs_->ReadFile(path);
  if (absl::IsNotFound(content.status())) {
    absl::Status made = fs_->MakeDirs(DirName(path), kRegistryDirMode);
    if (!made.ok()) return DirNotWritable(DirName(path), made);
    return ReplaceMachineGuid();
  }
  if (!content.ok()) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kMachineGuidInvalid,
                 absl::StrCat("cannot read the machine GUID (",
                              content.status().message(),
                              "); fix its permissions, or run Reclaim with "
                              "new_identity to make a new one"));
  }
  std::string guid(absl::StripAsciiWhitespace(*content));
  if (!IsUuid(guid)) {
    return Error(absl::StatusCode::kFailedPrecondition,
                 reason::kMachineGuidInvalid,
                 absl::StrCat(path,
                              " does not hold a UUID; restore it, or run "
                              "Reclaim with new_identity to make a new one"));
  }
  return LowercaseUuid(guid);
}

absl::StatusOr<std::string> StateDir::ReplaceMachineGuid() {
  const std::string path = MachineGuidPath();
  std::string guid = NewUuidV4();
  absl::Status written = fs_->MakeDirs(DirName(path), kRegistryDirMode);
  if (written.ok()) {
    written = fs_->WriteFileAtomic(path, guid, kMachineGuidMode);
  }
  if (!written.ok()) {
    return Error(
        absl::StatusCode::kUnavailable, reason::kStateWriteFailed,
        absl::StrCat("cannot store the machine GUID in ", AbsolutePath(path),
                     " (", written.message(),
                     "); free space or fix the lib directory's owner and "
                     "mode, then run `cloudlinkctl reload-claiming-state`"));
  }
  LogInfo(absl::StrCat("STATE: new machine GUID ", guid, " in ", path));
  return guid;
}

absl::StatusOr<absl::optional<StoredClaim>> StateDir::ReadClaim() {
  absl::StatusOr<std::string> conf_text = fs_->ReadFile(CloudConfPath());
  absl::StatusOr<std::string> id_text = fs_->ReadFile(ClaimedIdPath());
  if (!conf_text.ok() && !absl::IsNotFound(conf_text.status())) {
    return StateInvalid(CloudConfPath(), conf_text.status().message());
  }
  if (!id_text.ok() && !absl::IsNotFound(id_text.status())) {
    return StateInvalid(ClaimedIdPath(), id_text.status().message());
  }
  if (!conf_text.ok() && !id_text.ok()) return absl::optional<StoredClaim>();

  StoredClaim claim;
  if (conf_text.ok()) {
    absl::StatusOr<config::CloudConf> conf =
        config::ParseCloudConf(*conf_text, CloudConfPath());
    if (!conf.ok())
      return StateInvalid(CloudConfPath(), conf.status().message());
    if (!IsUuid(conf->claimed_id)) {
      return StateInvalid(CloudConfPath(),
                          "claimed_id is missing or not a UUID");
    }
    claim.cloud_conf = *std::move(conf);
    claim.cloud_conf.claimed_id = LowercaseUuid(claim.cloud_conf.claimed_id);
    claim.claimed_id = claim.cloud_conf.claimed_id;
    claim.has_cloud_conf = true;
    std::string on_disk =
        id_text.ok() ? std::string(absl::StripAsciiWhitespace(*id_text)) : "";
    if (LowercaseUuid(on_disk) != claim.claimed_id) {
      // cloud.conf is the commit point: a crash after it and before
      // claimed_id leaves an old or missing claimed_id. Repair it.
      LogWarning(absl::StrCat("STATE: repairing ", ClaimedIdPath(),
                              " from cloud.conf"));
      // The claim stands on cloud.conf alone: a repair that fails (disk
      // full, read-only) is logged and tried again on the next read.
      absl::Status repaired = fs_->WriteFileAtomic(
          ClaimedIdPath(), claim.claimed_id, kClaimedIdMode);
      if (!repaired.ok()) {
        LogWarning(absl::StrCat("STATE: could not repair ", ClaimedIdPath(),
                                ": ", repaired.message()));
      }
    }
    return absl::optional<StoredClaim>(std::move(claim));
  }
  std::string id(absl::StripAsciiWhitespace(*id_text));
  if (!IsUuid(id)) return StateInvalid(ClaimedIdPath(), "not a UUID");
  claim.claimed_id = LowercaseUuid(id);
  claim.cloud_conf.claimed_id = claim.claimed_id;
  return absl::optional<StoredClaim>(std::move(claim));
}

absl::Status StateDir::WriteClaim(const config::CloudConf& conf) {
  if (!IsUuid(conf.claimed_id)) {
    return absl::InternalError("WriteClaim without a claimed_id");
  }
  RETURN_IF_ERROR(EnsureCloudDir());
  ASSIGN_OR_RETURN(std::string text,
                   config::SerializeCloudConf(conf, CloudConfPath()));
  RETURN_IF_ERROR(fs_->WriteFileAtomic(CloudConfPath(), text, kCloudConfMode));
  return fs_->WriteFileAtomic(ClaimedIdPath(), LowercaseUuid(conf.claimed_id),
                              kClaimedIdMode);
}

absl::Status StateDir::RemoveCloudDir() { return fs_->RemoveTree(CloudDir()); }

absl::Status StateDir::EnsureCloudDir() {
  return fs_->MakeDirs(CloudDir(), kCloudDirMode);
}

}  // namespace cloudlink::state

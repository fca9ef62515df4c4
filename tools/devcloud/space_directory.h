#pragma once

// The dev cloud's Spaces: each with an id, a claim token, Rooms and an admin
// API token, plus the backoff the env endpoint hands to nodes. Kept in
// DIR/devcloud.json, created with two fresh Spaces when missing; tests may
// edit the file before starting the dev cloud (e.g. small backoff values).
//
// devcloud.json:
//   {"spaces":[{"id":UUID,"name":"Space A","claimToken":"...",
//               "rooms":[UUID,UUID],"adminApiToken":"..."}, ...],
//    "backoff":{"base":2,"minSeconds":1,"maxSeconds":1024}}

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

struct Space {
  std::string id;
  std::string name;
  std::string claim_token;
  std::vector<std::string> rooms;
  std::string admin_api_token;
};

// What GET /api/v1/env returns as "backoff".
struct BackoffConfig {
  int base = 2;
  int min_seconds = 1;
  int max_seconds = 1024;
};

struct CloudConfig {
  std::vector<Space> spaces;
  BackoffConfig backoff;
};

// Two Spaces ("Space A", "Space B") with random ids, 2 Rooms each, 72-char
// claim tokens and 48-char admin API tokens; default backoff.
CloudConfig DefaultCloudConfig();

// Parses devcloud.json. INVALID_ARGUMENT (CONFIG_INVALID) naming the problem
// when it is not JSON, has no Space, or a Space lacks a field.
absl::StatusOr<CloudConfig> ParseCloudConfig(absl::string_view json_text);
std::string SerializeCloudConfig(const CloudConfig& config);

// Thread-safe view of the Spaces, persisting every change atomically.
class SpaceDirectory {
 public:
  // Loads `path`, or creates it from DefaultCloudConfig() when missing; it
  // is read and written through `fs`, which must outlive the directory.
  // Errors: CONFIG_INVALID for a bad file (left untouched), or the error of
  // FileSystem::ReadFile or WriteFileAtomic.
  static absl::StatusOr<std::unique_ptr<SpaceDirectory>> Open(
      const std::string& path, state::FileSystem* fs);

  // All Spaces, in file order (the first is the one the demo uses).
  std::vector<Space> Spaces() const;
  BackoffConfig backoff() const;

  absl::optional<Space> FindById(absl::string_view space_id) const;
  // The Space whose current claim token is `token` (constant-time compare).
  absl::optional<Space> FindByClaimToken(absl::string_view token) const;
  // True when `token` is the admin API token of `space_id`.
  bool IsAdminToken(absl::string_view space_id, absl::string_view token) const;
  // True when `token` is the admin API token of any Space.
  bool IsAnyAdminToken(absl::string_view token) const;

  // Replaces the claim token of `space_id` with a new random one, persists
  // it, and returns it; the old one is refused from now on. NOT_FOUND
  // (SPACE_NOT_FOUND) for an unknown Space; the error of
  // FileSystem::WriteFileAtomic when it cannot be persisted (the old token
  // then stays valid).
  absl::StatusOr<std::string> RegenerateClaimToken(absl::string_view space_id);

 private:
  SpaceDirectory(std::string path, state::FileSystem* fs, CloudConfig config)
      : path_(std::move(path)), fs_(fs), config_(std::move(config)) {}

  const std::string path_;
  state::FileSystem* const fs_;
  mutable std::mutex mu_;
  CloudConfig config_;  // guarded by mu_
};

// Constant-time equality of two secrets (length may leak, content not).
bool SecretEquals(absl::string_view a, absl::string_view b);

}  // namespace cloudlink::devcloud

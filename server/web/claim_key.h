#pragma once

// The claim key of the local page: a random UUID in a file of the lib dir
// that only root and the admin group can read. Whoever can read it may claim
// the node through GET/POST /api/v3/claim (web_handler.h), so reading the
// file is the proof of being an administrator of this machine, as with the
// Netdata Agent's claim-by-key exchange.
//
// The key changes after every attempt, right or wrong (Rotate), so it cannot
// be found by trying.
//
// Thread-safe.

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/common/mutex.h"
#include "server/state/file_system.h"

namespace cloudlink::web {

// The key file's name in the lib dir.
inline constexpr char kClaimKeyFileName[] = "claim_session_key";

class ClaimKey {
 public:
  // Writes a first key to `path` (mode 0640, group `gid`; the group is left
  // as the process's when it cannot be changed, as for a daemon not running
  // as root). CLAIM_KEY_WRITE_FAILED when the file cannot be written.
  // `fs` must outlive the key.
  static absl::StatusOr<std::unique_ptr<ClaimKey>> Create(state::FileSystem* fs,
                                                          std::string path,
                                                          gid_t gid);

  ClaimKey(const ClaimKey&) = delete;
  ClaimKey& operator=(const ClaimKey&) = delete;

  // True when `candidate` is the current key (a UUID, either case). The
  // comparison takes the same time wherever the first difference is.
  bool Matches(absl::string_view candidate) const;

  // One attempt: whether `candidate` is the current key, and the key is
  // replaced (Rotate) either way, both under one lock, so that of attempts
  // made at the same time with the same key at most one matches. A failed
  // write of the new key goes to `*rotate_error` (may be null), as Rotate
  // returns it.
  bool Spend(absl::string_view candidate, absl::Status* rotate_error);

  // Replaces the key with a new random one, in memory and in the file. When
  // the file cannot be written the new key is kept in memory all the same
  // (the old one must stop working), so no one can claim until a write
  // succeeds; the error says why (CLAIM_KEY_WRITE_FAILED).
  absl::Status Rotate();

  // The key file's path (shown to people as `sudo cat PATH`).
  const std::string& path() const { return path_; }

 private:
  ClaimKey(state::FileSystem* fs, std::string path, gid_t gid)
      : fs_(fs), path_(std::move(path)), gid_(gid) {}
  absl::Status WriteLocked(const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool MatchesLocked(absl::string_view candidate) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  state::FileSystem* const fs_;
  const std::string path_;
  const gid_t gid_;
  mutable Mutex mu_;
  std::string key_ ABSL_GUARDED_BY(mu_);  // lowercase UUID
};

}  // namespace cloudlink::web

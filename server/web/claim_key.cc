#include "server/web/claim_key.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/uuid.h"

namespace cloudlink::web {

absl::StatusOr<std::unique_ptr<ClaimKey>> ClaimKey::Create(
    state::FileSystem* fs, std::string path, gid_t gid) {
  std::unique_ptr<ClaimKey> key(new ClaimKey(fs, std::move(path), gid));
  absl::Status written = key->Rotate();
  if (!written.ok()) return written;
  return key;
}

bool ClaimKey::Matches(absl::string_view candidate) const {
  MutexLock lock(&mu_);
  return MatchesLocked(candidate);
}

bool ClaimKey::Spend(absl::string_view candidate, absl::Status* rotate_error) {
  MutexLock lock(&mu_);
  const bool matched = MatchesLocked(candidate);
  absl::Status rotated = RotateLocked();
  if (rotate_error != nullptr) *rotate_error = std::move(rotated);
  return matched;
}

bool ClaimKey::MatchesLocked(absl::string_view candidate) const {
  if (!IsUuid(candidate)) return false;
  const std::string lower = LowercaseUuid(candidate);
  if (lower.size() != key_.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key_.size(); ++i) {
    diff |= static_cast<unsigned char>(lower[i] ^ key_[i]);
  }
  return diff == 0;
}

absl::Status ClaimKey::Rotate() {
  MutexLock lock(&mu_);
  return RotateLocked();
}

absl::Status ClaimKey::RotateLocked() {
  key_ = NewUuidV4();
  return WriteLocked(key_);
}

absl::Status ClaimKey::WriteLocked(const std::string& key) {
  absl::Status written = fs_->WriteFileAtomic(path_, key + "\n", 0640);
  if (!written.ok()) {
    return Error(
        written.code(), reason::kClaimKeyWriteFailed,
        absl::StrCat("cannot write the claim key file: ", written.message()));
  }
  // The admin group reads the key; failing to hand it over (not root) leaves
  // the file to the daemon's own group, which is no less strict.
  if (chown(path_.c_str(), static_cast<uid_t>(-1), gid_) != 0) {
    // Nothing to do: see above.
  }
  return absl::OkStatus();
}

}  // namespace cloudlink::web

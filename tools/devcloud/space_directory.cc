#include "tools/devcloud/space_directory.h"

#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"
#include "server/common/status_macros.h"
#include "server/common/uuid.h"
#include "tools/devcloud/random_token.h"

namespace cloudlink::devcloud {
namespace {

using nlohmann::json;

constexpr size_t kClaimTokenLength = 72;
constexpr size_t kApiTokenLength = 48;

absl::Status ConfigInvalid(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kConfigInvalid,
               absl::StrCat("devcloud.json: ", what));
}

Space NewSpace(const std::string& name) {
  Space space;
  space.id = NewUuidV4();
  space.name = name;
  space.claim_token = RandomToken(kClaimTokenLength);
  space.rooms = {NewUuidV4(), NewUuidV4()};
  space.admin_api_token = RandomToken(kApiTokenLength);
  return space;
}

bool IsNonEmptyString(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() &&
         !j[key].get<std::string>().empty();
}

}  // namespace

bool SecretEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         (a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
}

CloudConfig DefaultCloudConfig() {
  CloudConfig config;
  config.spaces = {NewSpace("Space A"), NewSpace("Space B")};
  return config;
}

absl::StatusOr<CloudConfig> ParseCloudConfig(absl::string_view json_text) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return ConfigInvalid("not a JSON object");
  }
  CloudConfig config;
  if (!doc.contains("spaces") || !doc["spaces"].is_array() ||
      doc["spaces"].empty()) {
    return ConfigInvalid("\"spaces\" must be a non-empty array");
  }
  for (const json& s : doc["spaces"]) {
    if (!s.is_object() || !IsNonEmptyString(s, "id") ||
        !IsNonEmptyString(s, "claimToken") ||
        !IsNonEmptyString(s, "adminApiToken") || !s.contains("rooms") ||
        !s["rooms"].is_array()) {
      return ConfigInvalid(
          "each space needs \"id\", \"claimToken\", \"adminApiToken\" and "
          "\"rooms\"");
    }
    Space space;
    space.id = LowercaseUuid(s["id"].get<std::string>());
    space.name = s.value("name", "");
    space.claim_token = s["claimToken"].get<std::string>();
    space.admin_api_token = s["adminApiToken"].get<std::string>();
    for (const json& room : s["rooms"]) {
      if (!room.is_string()) return ConfigInvalid("rooms must be strings");
      space.rooms.push_back(LowercaseUuid(room.get<std::string>()));
    }
    config.spaces.push_back(std::move(space));
  }
  if (doc.contains("backoff")) {
    const json& b = doc["backoff"];
    if (!b.is_object()) return ConfigInvalid("\"backoff\" must be an object");
    for (const char* key : {"base", "minSeconds", "maxSeconds"}) {
      if (b.contains(key) && !b[key].is_number_integer()) {
        return ConfigInvalid(
            absl::StrCat("backoff.", key, " must be an integer"));
      }
    }
    config.backoff.base = b.value("base", config.backoff.base);
    config.backoff.min_seconds =
        b.value("minSeconds", config.backoff.min_seconds);
    config.backoff.max_seconds =
        b.value("maxSeconds", config.backoff.max_seconds);
  }
  return config;
}

std::string SerializeCloudConfig(const CloudConfig& config) {
  json doc;
  doc["spaces"] = json::array();
  for (const Space& s : config.spaces) {
    doc["spaces"].push_back({{"id", s.id},
                             {"name", s.name},
                             {"claimToken", s.claim_token},
                             {"rooms", s.rooms},
                             {"adminApiToken", s.admin_api_token}});
  }
  doc["backoff"] = {{"base", config.backoff.base},
                    {"minSeconds", config.backoff.min_seconds},
                    {"maxSeconds", config.backoff.max_seconds}};
  return doc.dump(2) + "\n";
}

absl::StatusOr<std::unique_ptr<SpaceDirectory>> SpaceDirectory::Open(
    const std::string& path, state::FileSystem* fs) {
  absl::StatusOr<std::string> text = fs->ReadFile(path);
  CloudConfig config;
  if (text.ok()) {
    ASSIGN_OR_RETURN(config, ParseCloudConfig(*text));
  } else if (absl::IsNotFound(text.status())) {
    config = DefaultCloudConfig();
    // 0600: the file holds claim and admin tokens.
    RETURN_IF_ERROR(
        fs->WriteFileAtomic(path, SerializeCloudConfig(config), 0600));
  } else {
    return text.status();
  }
  return std::unique_ptr<SpaceDirectory>(
      new SpaceDirectory(path, fs, std::move(config)));
}

std::vector<Space> SpaceDirectory::Spaces() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_.spaces;
}

BackoffConfig SpaceDirectory::backoff() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_.backoff;
}

absl::optional<Space> SpaceDirectory::FindById(
    absl::string_view space_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Space& s : config_.spaces) {
    if (s.id == LowercaseUuid(space_id)) return s;
  }
  return absl::nullopt;
}

absl::optional<Space> SpaceDirectory::FindByClaimToken(
    absl::string_view token) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Space& s : config_.spaces) {
    if (SecretEquals(s.claim_token, token)) return s;
  }
  return absl::nullopt;
}

bool SpaceDirectory::IsAdminToken(absl::string_view space_id,
                                  absl::string_view token) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Space& s : config_.spaces) {
    if (s.id == LowercaseUuid(space_id)) {
      return SecretEquals(s.admin_api_token, token);
    }
  }
  return false;
}

bool SpaceDirectory::IsAnyAdminToken(absl::string_view token) const {
  std::lock_guard<std::mutex> lock(mu_);
  bool found = false;
  for (const Space& s : config_.spaces) {
    found |= SecretEquals(s.admin_api_token, token);
  }
  return found;
}

absl::StatusOr<std::string> SpaceDirectory::RegenerateClaimToken(
    absl::string_view space_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < config_.spaces.size(); ++i) {
    if (config_.spaces[i].id != LowercaseUuid(space_id)) continue;
    CloudConfig updated = config_;
    updated.spaces[i].claim_token = RandomToken(kClaimTokenLength);
    RETURN_IF_ERROR(
        fs_->WriteFileAtomic(path_, SerializeCloudConfig(updated), 0600));
    config_ = std::move(updated);
    return config_.spaces[i].claim_token;
  }
  return Error(absl::StatusCode::kNotFound, reason::kSpaceNotFound,
               "no such Space in this dev cloud");
}

}  // namespace cloudlink::devcloud

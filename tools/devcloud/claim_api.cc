#include "tools/devcloud/claim_api.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/common/uuid.h"

namespace cloudlink::devcloud {

using nlohmann::json;

namespace {

std::string StringField(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) ||
      !object[key].is_string()) {
    return "";
  }
  return object[key].get<std::string>();
}

HttpAnswer Unauthorized() {
  return ErrorAnswer(403, "forbidden", "ErrForbidden",
                     "missing or wrong admin API token");
}

HttpAnswer SpaceNotFound() {
  return ErrorAnswer(404, "not-found", "ErrSpaceNotFound", "no such Space");
}

}  // namespace

bool IsRsaPublicKeyPem(absl::string_view pem) {
  if (pem.empty() || pem.size() > 16384) return false;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bool ok = key != nullptr && EVP_PKEY_base_id(key) == EVP_PKEY_RSA;
  EVP_PKEY_free(key);
  return ok;
}

bool IsValidNodeName(absl::string_view hostname) {
  if (hostname.empty() || hostname.size() > 255) return false;
  return std::none_of(hostname.begin(), hostname.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

HttpAnswer ClaimApi::Claim(absl::string_view claim_id, absl::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return ErrorAnswer(400, "bad-request", "ErrBadRequest",
                       "the body is not a JSON object");
  }
  absl::optional<Space> space =
      spaces_->FindByClaimToken(StringField(doc, "token"));
  if (!space) {
    return ErrorAnswer(403, "claim-token-invalid", "ErrInvalidToken",
                       "the claim token is expired, not found or invalid");
  }
  const json node = doc.contains("node") ? doc["node"] : json();
  std::string node_id = StringField(node, "id");
  if (!IsUuid(claim_id) || LowercaseUuid(node_id) != LowercaseUuid(claim_id)) {
    return ErrorAnswer(422, "claim-invalid-node-id", "ErrInvalidNodeID",
                       "the claim id must be a UUID equal to node.id");
  }
  std::string machine_guid = StringField(doc, "mGUID");
  if (!IsUuid(machine_guid)) {
    return ErrorAnswer(400, "bad-request", "ErrBadRequest",
                       "mGUID must be a UUID");
  }
  std::string hostname = StringField(node, "hostname");
  if (!IsValidNodeName(hostname)) {
    return ErrorAnswer(422, "claim-invalid-node-name", "ErrInvalidNodeName",
                       "node.hostname must be 1 to 255 printable bytes");
  }
  std::vector<std::string> rooms;
  if (doc.contains("rooms") && !doc["rooms"].is_null()) {
    if (!doc["rooms"].is_array()) {
      return ErrorAnswer(422, "claim-invalid-room-id", "ErrInvalidRoomID",
                         "rooms must be a list of Room ids");
    }
    for (const json& room : doc["rooms"]) {
      std::string id = room.is_string() ? LowercaseUuid(room.get<std::string>())
                                        : std::string();
      if (std::find(space->rooms.begin(), space->rooms.end(), id) ==
          space->rooms.end()) {
        return ErrorAnswer(422, "claim-invalid-room-id", "ErrInvalidRoomID",
                           "a Room is not in the token's Space");
      }
      rooms.push_back(id);
    }
  }
  std::string public_key = StringField(doc, "publicKey");
  if (!IsRsaPublicKeyPem(public_key)) {
    return ErrorAnswer(422, "claim-invalid-public-key", "ErrInvalidPublicKey",
                       "publicKey must be an RSA public key in PEM "
                       "(SubjectPublicKeyInfo)");
  }
  Node record;
  record.claim_id = std::string(claim_id);
  record.hostname = hostname;
  record.machine_guid = machine_guid;
  record.space_id = space->id;
  record.rooms = rooms;
  record.public_key_pem = public_key;
  absl::Status added = nodes_->Add(std::move(record));
  if (absl::IsAlreadyExists(added)) {
    return ErrorAnswer(409, "claim-already-claimed", "ErrAlreadyClaimed",
                       "this claim id is already claimed");
  }
  if (!added.ok()) {
    LogError(absl::StrCat("claim: ", added.message()));
    return ErrorAnswer(500, "internal", "ErrInternal", "cannot store the node");
  }
  LogInfo(absl::StrCat("claimed node ", LowercaseUuid(claim_id), " (", hostname,
                       ") into Space ", space->id));
  HttpAnswer answer;
  answer.status = 204;
  return answer;
}

HttpAnswer ClaimApi::RegenerateToken(absl::string_view space_id,
                                     absl::string_view authorization) {
  if (!spaces_->FindById(space_id)) return SpaceNotFound();
  if (!spaces_->IsAdminToken(space_id, BearerToken(authorization))) {
    return Unauthorized();
  }
  absl::StatusOr<std::string> token = spaces_->RegenerateClaimToken(space_id);
  if (!token.ok()) {
    LogError(absl::StrCat("regenerate: ", token.status().message()));
    return ErrorAnswer(500, "internal", "ErrInternal",
                       "cannot store the new token");
  }
  LogInfo(absl::StrCat("claim token of Space ", space_id, " regenerated"));
  HttpAnswer answer;
  answer.body = {{"token", *token}};
  return answer;
}

HttpAnswer ClaimApi::ClaimToken(absl::string_view space_id,
                                absl::string_view authorization) {
  absl::optional<Space> space = spaces_->FindById(space_id);
  if (!space) return SpaceNotFound();
  if (!spaces_->IsAdminToken(space_id, BearerToken(authorization))) {
    return Unauthorized();
  }
  HttpAnswer answer;
  answer.body = {{"token", space->claim_token}, {"rooms", space->rooms}};
  return answer;
}

HttpAnswer ClaimApi::ListNodes(absl::string_view space_id,
                               absl::string_view authorization) {
  if (!spaces_->FindById(space_id)) return SpaceNotFound();
  if (!spaces_->IsAdminToken(space_id, BearerToken(authorization))) {
    return Unauthorized();
  }
  HttpAnswer answer;
  answer.body = json::array();
  for (const Node& n : nodes_->InSpace(space_id)) {
    answer.body.push_back(
        {{"id", n.claim_id},
         {"name", n.hostname},
         {"machineGuid", n.machine_guid},
         {"nodeId", NodeInstanceId(n.space_id, n.machine_guid)},
         {"rooms", n.rooms},
         {"state", NodeStateName(n.state)}});
  }
  return answer;
}

}  // namespace cloudlink::devcloud

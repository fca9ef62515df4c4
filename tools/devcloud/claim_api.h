#pragma once

// The claiming side of the dev cloud: the claim
// itself, claim-token regeneration and the node listing. Each call is a
// plain function of the request's parts; the HTTP wiring is in
// dev_cloud_server.h. Thread-safe (the stores it uses are).

#include <string>

#include "absl/strings/string_view.h"
#include "tools/devcloud/http_answer.h"
#include "tools/devcloud/node_registry.h"
#include "tools/devcloud/space_directory.h"

namespace cloudlink::devcloud {

class ClaimApi {
 public:
  // Both stores must outlive the ClaimApi.
  ClaimApi(SpaceDirectory* spaces, NodeRegistry* nodes)
      : spaces_(spaces), nodes_(nodes) {}

  // PUT /api/v1/spaces/nodes/{claim_id} with `body`
  // {"node":{"id","hostname"},"token","rooms":[...],"publicKey","mGUID"}.
  // Checks, in this order: 400 body not a JSON object; 403 unknown or revoked
  // token; 422 ErrInvalidNodeID (claim id not a UUID or not node.id);
  // 400 mGUID missing or not a UUID; 422 ErrInvalidNodeName (hostname empty,
  // over 255 bytes, or with control characters); 422 ErrInvalidRoomID (a
  // room not in the token's Space); 422 ErrInvalidPublicKey (not an RSA
  // SubjectPublicKeyInfo PEM); 409 claim id already claimed. 204 stores the
  // node (moving it when its machine GUID was claimed before).
  HttpAnswer Claim(absl::string_view claim_id, absl::string_view body);

  // POST /api/v1/spaces/{space_id}/claim-token/regenerate. 404 unknown
  // Space; 403 when `authorization` is not "Bearer <that Space's admin API
  // token>"; 200 {"token":new} otherwise (the old token is refused at once).
  HttpAnswer RegenerateToken(absl::string_view space_id,
                             absl::string_view authorization);

  // GET /api/v1/spaces/{space_id}/claim-token (the Space page's view). Same
  // 404/403 rules; 200 {"token":current claim token,"rooms":[...]}.
  HttpAnswer ClaimToken(absl::string_view space_id,
                        absl::string_view authorization);

  // GET /api/v1/spaces/{space_id}/nodes. Same 404/403 rules; 200
  // [{"id":claim_id,"name","machineGuid","rooms","state"}].
  HttpAnswer ListNodes(absl::string_view space_id,
                       absl::string_view authorization);

 private:
  SpaceDirectory* spaces_;
  NodeRegistry* nodes_;
};

// True when `pem` is a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of an RSA key.
bool IsRsaPublicKeyPem(absl::string_view pem);

// True when `hostname` is acceptable as a node name: 1..255 bytes, no
// control characters.
bool IsValidNodeName(absl::string_view hostname);

}  // namespace cloudlink::devcloud

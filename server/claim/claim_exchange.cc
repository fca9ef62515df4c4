#include "server/claim/claim_exchange.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::claim {

http::HttpRequest BuildClaimRequest(const ClaimParams& params,
                                    const std::string& claim_id) {
  nlohmann::json body = {
      {"node", {{"id", claim_id}, {"hostname", params.hostname}}},
      {"token", params.token},
      {"rooms", params.rooms},
      {"publicKey", params.public_key_pem},
      {"mGUID", params.machine_guid},
  };
  http::HttpRequest request;
  request.method = "PUT";
  request.url = absl::StrCat(params.url, "/api/v1/spaces/nodes/", claim_id);
  request.headers = {{"Content-Type", "application/json"}};
  request.body = body.dump();
  return request;
}

absl::Status ClaimResponseStatus(const http::HttpResponse& response) {
  switch (response.status) {
    case 204:
      return absl::OkStatus();
    case 403:
      return Error(absl::StatusCode::kPermissionDenied, "TOKEN_INVALID",
                   "the cloud rejected the claim token (HTTP 403): it is "
                   "expired, revoked or unknown; get a new token from the "
                   "Space settings");
    case 409:
      return Error(absl::StatusCode::kAlreadyExists, "ALREADY_CLAIMED",
                   "the cloud says this node is already claimed (HTTP 409); "
                   "use Reclaim to claim it again");
    case 422: {
      std::string key;
      nlohmann::json body = nlohmann::json::parse(response.body, nullptr,
                                                  /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("errorMsgKey") &&
          body["errorMsgKey"].is_string()) {
        key = body["errorMsgKey"].get<std::string>();
      }
      struct Known {
        const char* key;
        const char* reason;
        const char* sentence;
      };
      static constexpr Known kKnown[] = {
          {"ErrInvalidNodeID", "INVALID_NODE_ID",
           "the cloud rejected the node's claim id (HTTP 422)"},
          {"ErrInvalidNodeName", "INVALID_NODE_NAME",
           "the cloud rejected the node's host name (HTTP 422); set a valid "
           "host name"},
          {"ErrInvalidRoomID", "INVALID_ROOM_ID",
           "the cloud rejected a room id (HTTP 422); use room ids of the "
           "token's Space"},
          {"ErrInvalidPublicKey", "INVALID_PUBLIC_KEY",
           "the cloud rejected the node's public key (HTTP 422); Reclaim to "
           "make a new key pair"},
      };
      for (const Known& k : kKnown) {
        if (key == k.key) {
          return Error(absl::StatusCode::kInvalidArgument, k.reason,
                       k.sentence);
        }
      }
      return Error(absl::StatusCode::kInvalidArgument, "CLAIM_REJECTED",
                   absl::StrCat("the cloud rejected the claim request (HTTP "
                                "422",
                                key.empty() ? "" : ", " + key, ")"));
    }
    default:
      return Error(absl::StatusCode::kUnavailable,
                   absl::StrCat("CLOUD_ERROR_", response.status),
                   absl::StrCat("the cloud answered HTTP ", response.status,
                                "; it will be retried"));
  }
}

bool IsRetryable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

}  // namespace cloudlink::claim

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

namespace {

// How many room ids an INVALID_ROOM_ID message lists.
constexpr size_t kRoomsNamed = 10;

std::string RoomsSent(const std::vector<std::string>& rooms) {
  if (rooms.empty()) return "no room was sent";
  if (rooms.size() == 1) return absl::StrCat("the room '", rooms[0], "'");
  std::string list;
  for (size_t i = 0; i < rooms.size() && i < kRoomsNamed; ++i) {
    absl::StrAppend(&list, i == 0 ? "" : ", ", "'", rooms[i], "'");
  }
  if (rooms.size() > kRoomsNamed) {
    absl::StrAppend(&list, " and ", rooms.size() - kRoomsNamed, " more");
  }
  return absl::StrCat("one of the rooms ", list);
}

}  // namespace

absl::Status ClaimResponseStatus(const http::HttpResponse& response,
                                 const std::vector<std::string>& rooms) {
  switch (response.status) {
    case 204:
      return absl::OkStatus();
    case 403:
      return Error(absl::StatusCode::kPermissionDenied, reason::kTokenInvalid,
                   "the cloud rejected the claim token (HTTP 403): it is "
                   "expired, revoked or unknown; get a new token from the "
                   "Space settings");
    case 409:
      return Error(absl::StatusCode::kAlreadyExists, reason::kAlreadyClaimed,
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
        const Reason* reason;
        const char* sentence;
      };
      static constexpr Known kKnown[] = {
          {"ErrInvalidNodeID", &reason::kInvalidNodeId,
           "the cloud rejected the node's claim id (HTTP 422)"},
          {"ErrInvalidNodeName", &reason::kInvalidNodeName,
           "the cloud rejected the node's host name (HTTP 422); set a valid "
           "host name"},
          {"ErrInvalidRoomID", &reason::kInvalidRoomId,
           "the cloud rejected a room id (HTTP 422); use room ids of the "
           "token's Space"},
          {"ErrInvalidPublicKey", &reason::kInvalidPublicKey,
           "the cloud rejected the node's public key (HTTP 422); Reclaim to "
           "make a new key pair"},
      };
      if (key == "ErrInvalidRoomID") {
        std::string cloud_says;
        if (body.is_object() && body.contains("errorMessage") &&
            body["errorMessage"].is_string()) {
          cloud_says = body["errorMessage"].get<std::string>();
        }
        return Error(
            absl::StatusCode::kInvalidArgument, reason::kInvalidRoomId,
            absl::StrCat("the cloud rejected ", RoomsSent(rooms), " (HTTP 422",
                         cloud_says.empty() ? "" : ": " + cloud_says,
                         "); use room ids of the token's Space (rooms in "
                         "claim.conf, NETDATA_CLAIM_ROOMS or --rooms)"));
      }
      for (const Known& k : kKnown) {
        if (key == k.key) {
          return Error(absl::StatusCode::kInvalidArgument, *k.reason,
                       k.sentence);
        }
      }
      return Error(absl::StatusCode::kInvalidArgument, reason::kClaimRejected,
                   absl::StrCat("the cloud rejected the claim request (HTTP "
                                "422",
                                key.empty() ? "" : ", " + key, ")"));
    }
    default:
      return CloudHttpError(
          absl::StatusCode::kUnavailable, response.status,
          absl::StrCat("the cloud answered HTTP ", response.status));
  }
}

bool IsRetryable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

}  // namespace cloudlink::claim

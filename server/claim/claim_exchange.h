#pragma once

// One claim attempt on the wire (docs/protocol.md, "Claiming"):
//
//   PUT {url}/api/v1/spaces/nodes/{claim_id}
//   Content-Type: application/json
//   {"node":{"id":<claim_id>,"hostname":<hostname>},"token":<token>,
//    "rooms":[...],"publicKey":<public.pem text>,"mGUID":<machine guid>}
//
// and the meaning of the cloud's answer. Pure functions, thread-safe.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/http/http_client.h"

namespace cloudlink::claim {

struct ClaimParams {
  std::string url;  // cloud base URL, no trailing '/'
  std::string token;
  std::vector<std::string> rooms;
  std::string hostname;
  std::string machine_guid;
  std::string public_key_pem;
  http::TransportOptions transport;  // proxy already resolved
};

http::HttpRequest BuildClaimRequest(const ClaimParams& params,
                                    const std::string& claim_id);

// What the cloud's answer means:
//   204                       OK
//   403                       PERMISSION_DENIED  TOKEN_INVALID
//   409                       ALREADY_EXISTS     ALREADY_CLAIMED
//   422 + errorMsgKey         INVALID_ARGUMENT   INVALID_NODE_ID,
//                             INVALID_NODE_NAME, INVALID_ROOM_ID,
//                             INVALID_PUBLIC_KEY (other keys: CLAIM_REJECTED)
//   anything else             UNAVAILABLE        CLOUD_ERROR_<status>
// The cloud does not say which room it refused: INVALID_ROOM_ID names the
// `rooms` that were sent (the room itself when there was one) and the
// cloud's errorMessage when it gave one. Whether a failure is retried is
// the caller's to say: no message promises a retry.
absl::Status ClaimResponseStatus(const http::HttpResponse& response,
                                 const std::vector<std::string>& rooms = {});

// Whether a failed attempt may succeed when repeated: UNAVAILABLE results
// (transport errors and cloud trouble) are, everything else is not.
bool IsRetryable(const absl::Status& status);

}  // namespace cloudlink::claim

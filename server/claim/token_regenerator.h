#pragma once

// Asks the cloud to revoke a Space's claim token and issue a new one:
//
//   POST {url}/api/v1/spaces/{space_id}/claim-token/regenerate
//   Authorization: Bearer <api token>            → 200 {"token": "..."}
//
// The old token stops working at once. Neither token is ever logged.

#include <string>

#include "absl/status/statusor.h"
#include "server/http/http_client.h"

namespace cloudlink::claim {

struct RegenerateParams {
  std::string url;  // cloud base URL, no trailing '/'
  std::string space_id;
  std::string api_token;
  http::TransportOptions transport;  // proxy already resolved
};

// Returns the new claim token. Errors: INVALID_ARGUMENT SPACE_ID_INVALID /
// API_TOKEN_INVALID_FORMAT for bad input (nothing sent); PERMISSION_DENIED
// API_TOKEN_REJECTED (401/403); NOT_FOUND SPACE_NOT_FOUND (404); UNAVAILABLE
// CLOUD_ERROR_<status>, CLOUD_RESPONSE_INVALID, or a transport reason.
absl::StatusOr<std::string> RegenerateClaimToken(
    http::HttpClient* client, const RegenerateParams& params);

}  // namespace cloudlink::claim

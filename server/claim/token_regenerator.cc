#include "server/claim/token_regenerator.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::claim {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

absl::StatusOr<std::string> RegenerateClaimToken(
    http::HttpClient* client, const RegenerateParams& params) {
  if (params.space_id.empty() || params.space_id.size() > 128 ||
      !std::all_of(params.space_id.begin(), params.space_id.end(), IsIdChar)) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kSpaceIdInvalid,
                 "space_id must be 1 to 128 characters of A-Z, a-z, 0-9, '-' "
                 "and '_'; copy it from the Space settings");
  }
  if (params.api_token.empty() || params.api_token.size() > 4096 ||
      !std::all_of(params.api_token.begin(), params.api_token.end(),
                   [](char c) { return c > ' ' && c < 127; })) {
    return Error(absl::StatusCode::kInvalidArgument,
                 reason::kApiTokenInvalidFormat,
                 "api_token is required and must be printable ASCII without "
                 "spaces; create one in your account settings");
  }
  http::HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat(params.url, "/api/v1/spaces/", params.space_id,
                             "/claim-token/regenerate");
  request.headers = {{"Authorization", "Bearer " + params.api_token},
                     {"Content-Type", "application/json"}};
  request.body = "{}";
  absl::StatusOr<http::HttpResponse> response =
      client->Send(request, params.transport);
  if (!response.ok()) {
    LogError(absl::StrCat("CLAIM: token regeneration failed: ",
                          response.status().message()));
    return response.status();
  }
  absl::Status failure;
  if (response->status == 401 || response->status == 403) {
    failure = Error(
        absl::StatusCode::kPermissionDenied, reason::kApiTokenRejected,
        absl::StrCat("the cloud refused the API token (HTTP ", response->status,
                     "); only Space administrators can regenerate "
                     "claim tokens"));
  } else if (response->status == 404) {
    failure = Error(absl::StatusCode::kNotFound, reason::kSpaceNotFound,
                    absl::StrCat("the cloud has no Space ", params.space_id,
                                 " (HTTP 404)"));
  } else if (response->status != 200) {
    failure = CloudHttpError(
        absl::StatusCode::kUnavailable, response->status,
        absl::StrCat("the cloud answered HTTP ", response->status));
  } else {
    nlohmann::json body = nlohmann::json::parse(response->body, nullptr, false);
    if (body.is_object() && body.contains("token") &&
        body["token"].is_string() &&
        !body["token"].get<std::string>().empty()) {
      LogInfo(absl::StrCat("CLAIM: regenerated the claim token of Space ",
                           params.space_id));
      return body["token"].get<std::string>();
    }
    failure =
        Error(absl::StatusCode::kUnavailable, reason::kCloudResponseInvalid,
              "the cloud's answer has no token");
  }
  LogError(absl::StrCat("CLAIM: token regeneration failed: ", failure.message(),
                        "; url ", params.url));
  return failure;
}

}  // namespace cloudlink::claim

#include "server/cloud/cloud_api.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/claim/key_pair.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::cloud {
namespace {

using nlohmann::json;

// The path of an absolute URL ("https://h:1/api/v1/auth" → "/api/v1/auth").
std::string UrlPath(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t slash = url.find('/', start);
  if (slash == std::string::npos) return "";
  std::string path = url.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::string JsonString(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) {
    return j[key].get<std::string>();
  }
  return "";
}

}  // namespace

absl::Status CloudErrorStatus(const http::HttpResponse& response,
                              const Reason& reason, absl::string_view what,
                              RetryAdvice* advice) {
  *advice = RetryAdvice();
  json body = json::parse(response.body, nullptr, false);
  std::string message = JsonString(body, "errorMessage");
  std::string key = JsonString(body, "errorMsgKey");
  std::string code = JsonString(body, "errorCode");
  if (body.is_object()) {
    if (body.contains("errorNonRetryable") &&
        body["errorNonRetryable"].is_boolean()) {
      advice->banned = body["errorNonRetryable"].get<bool>();
    }
    if (body.contains("errorRetryDelaySeconds") &&
        body["errorRetryDelaySeconds"].is_number()) {
      double s = body["errorRetryDelaySeconds"].get<double>();
      if (s > 0 && s < 7 * 86400) advice->not_before = absl::Seconds(s);
    }
  }
  if (response.status == 429) {
    auto it = response.headers.find("retry-after");
    int64_t seconds;
    if (it != response.headers.end() &&
        absl::SimpleAtoi(it->second, &seconds) && seconds > 0 &&
        seconds < 7 * 86400) {
      advice->not_before = std::max(advice->not_before, absl::Seconds(seconds));
    }
  }
  std::string detail = absl::StrCat(what, " answered HTTP ", response.status);
  if (!key.empty()) absl::StrAppend(&detail, " ", key);
  if (!code.empty()) absl::StrAppend(&detail, " (", code, ")");
  if (!message.empty()) absl::StrAppend(&detail, ": ", message);
  if (advice->banned) {
    return Error(absl::StatusCode::kPermissionDenied, reason::kBanned,
                 absl::StrCat(detail,
                              "; the cloud asked not to retry: fix the cause, "
                              "then ReloadClaimingState or Reclaim"));
  }
  if (advice->not_before > absl::ZeroDuration()) {
    absl::StrAppend(&detail, "; retrying after ",
                    absl::FormatDuration(advice->not_before));
  }
  return Error(absl::StatusCode::kUnavailable, reason, detail);
}

CloudApi::CloudApi(http::HttpClient* http, http::TransportOptions transport,
                   std::string base_url, std::string claim_id,
                   std::string agent_version)
    : http_(http),
      transport_(std::move(transport)),
      base_url_(std::move(base_url)),
      claim_id_(std::move(claim_id)),
      agent_version_(std::move(agent_version)) {}

absl::StatusOr<LinkEnv> CloudApi::GetEnv(RetryAdvice* advice) {
  *advice = RetryAdvice();
  http::HttpRequest request;
  request.url = absl::StrCat(base_url_, "/api/v1/env?v=", agent_version_,
                             "&cap=proto,ctx&claim_id=", claim_id_);
  absl::StatusOr<http::HttpResponse> response =
      http_->Send(request, transport_);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return CloudErrorStatus(*response, reason::kEnvFailed,
                            "the cloud's env endpoint", advice);
  }
  json body = json::parse(response->body, nullptr, false);
  auto invalid = [](absl::string_view why) {
    return Error(absl::StatusCode::kUnavailable, reason::kEnvInvalid,
                 absl::StrCat("the cloud's env answer is unusable: ", why));
  };
  if (!body.is_object()) return invalid("not a JSON object");
  LinkEnv env;
  env.encoding = JsonString(body, "encoding");
  if (env.encoding != "proto") {
    return invalid(
        absl::StrCat("encoding is '", env.encoding, "', not 'proto'"));
  }
  env.auth_endpoint = JsonString(body, "authEndpoint");
  if (!absl::StartsWith(env.auth_endpoint, "https://")) {
    return invalid("authEndpoint is missing or not https://");
  }
  if (body.contains("capabilities") && body["capabilities"].is_array()) {
    for (const json& c : body["capabilities"]) {
      if (c.is_string()) env.capabilities.push_back(c.get<std::string>());
    }
  }
  if (std::find(env.capabilities.begin(), env.capabilities.end(), "proto") ==
      env.capabilities.end()) {
    return invalid("capabilities lack 'proto'");
  }
  if (body.contains("transports") && body["transports"].is_array()) {
    for (const json& t : body["transports"]) {
      if (JsonString(t, "type") == "MQTTv5") {
        env.mqtt_endpoint = JsonString(t, "endpoint");
        break;
      }
    }
  }
  if (!absl::StartsWith(env.mqtt_endpoint, "wss://")) {
    return invalid("no MQTTv5 transport with a wss:// endpoint");
  }
  if (body.contains("backoff") && body["backoff"].is_object()) {
    const json& b = body["backoff"];
    if (b.contains("base") && b["base"].is_number_integer()) {
      env.backoff.base = b["base"].get<int>();
    }
    if (b.contains("minSeconds") && b["minSeconds"].is_number()) {
      env.backoff.min = absl::Seconds(b["minSeconds"].get<double>());
    }
    if (b.contains("maxSeconds") && b["maxSeconds"].is_number()) {
      env.backoff.max = absl::Seconds(b["maxSeconds"].get<double>());
    }
  }
  return env;
}

absl::StatusOr<LoginCredentials> CloudApi::Login(const LinkEnv& env,
                                                 const std::string& private_pem,
                                                 RetryAdvice* advice) {
  *advice = RetryAdvice();
  // The login calls go to the authEndpoint's path on the cloud's base URL:
  // the same host and transport the env call used.
  const std::string prefix =
      absl::StrCat(base_url_, UrlPath(env.auth_endpoint), "/node/", claim_id_);
  http::HttpRequest challenge_request;
  challenge_request.url = prefix + "/challenge";
  absl::StatusOr<http::HttpResponse> response =
      http_->Send(challenge_request, transport_);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return CloudErrorStatus(*response, reason::kLoginFailed,
                            "the cloud's challenge endpoint", advice);
  }
  json body = json::parse(response->body, nullptr, false);
  std::string ciphertext;
  if (!absl::Base64Unescape(JsonString(body, "challenge"), &ciphertext) ||
      ciphertext.empty()) {
    return Error(absl::StatusCode::kUnavailable, reason::kChallengeInvalid,
                 "the cloud's challenge is missing or not base64");
  }
  absl::StatusOr<std::string> secret =
      claim::DecryptOaepSha1(private_pem, ciphertext);
  if (!secret.ok()) {
    // A challenge that does not decrypt is the cloud's fault and worth a
    // retry, like one that is not base64: UNAVAILABLE, not the
    // INVALID_ARGUMENT the key layer uses. KEY_INVALID passes through.
    if (HasReason(secret.status(), reason::kChallengeInvalid)) {
      return WithCode(secret.status(), absl::StatusCode::kUnavailable);
    }
    return secret.status();
  }

  http::HttpRequest password_request;
  password_request.method = "POST";
  password_request.url = prefix + "/password";
  password_request.headers = {{"Content-Type", "application/json"}};
  password_request.body = json{{"agent_version", agent_version_},
                               {"response", absl::Base64Escape(*secret)}}
                              .dump();
  response = http_->Send(password_request, transport_);
  if (!response.ok()) return response.status();
  if (response->status != 201 && response->status != 200) {
    return CloudErrorStatus(*response, reason::kLoginFailed,
                            "the cloud's password endpoint", advice);
  }
  body = json::parse(response->body, nullptr, false);
  LoginCredentials creds;
  creds.client_id = JsonString(body, "clientID");
  creds.username = JsonString(body, "username");
  creds.password = JsonString(body, "password");
  if (creds.client_id.empty() || creds.username.empty() ||
      creds.password.empty()) {
    return Error(
        absl::StatusCode::kUnavailable, reason::kLoginInvalid,
        "the cloud's login answer lacks clientID, username or password");
  }
  if (body.contains("topics") && body["topics"].is_array()) {
    for (const json& t : body["topics"]) {
      std::string name = JsonString(t, "name");
      std::string topic = JsonString(t, "topic");
      if (name.empty() || topic.empty()) continue;
      creds.topics[name] =
          absl::StrReplaceAll(topic, {{"#{claim_id}", claim_id_}});
    }
  }
  if (creds.topics.count("agent-connection") == 0) {
    return Error(absl::StatusCode::kUnavailable, reason::kLoginInvalid,
                 "the cloud's login answer has no agent-connection topic");
  }
  return creds;
}

}  // namespace cloudlink::cloud

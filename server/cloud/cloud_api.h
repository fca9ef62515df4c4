#pragma once

// The HTTPS half of connecting (docs/protocol.md, "Connecting"): the link's
// environment, then the challenge/response login that yields the MQTT
// credentials. Uses the same HttpClient, proxy and TLS decisions as claiming.
//
//   GET  {url}/api/v1/env?v=<version>&cap=proto,ctx&claim_id=<id>
//   GET  <authEndpoint path>/node/<id>/challenge  → {"challenge": base64}
//   POST <authEndpoint path>/node/<id>/password   → 201 credentials + topics
//
// Thread-compatible (one caller at a time).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/backoff.h"
#include "server/common/reasons.h"
#include "server/http/http_client.h"

namespace cloudlink::cloud {

struct LinkEnv {
  std::string encoding;       // "proto"
  std::string auth_endpoint;  // URL; its path prefixes the login calls
  std::string
      mqtt_endpoint;      // wss://host:port/path of the first MQTTv5 transport
  BackoffParams backoff;  // from "backoff", defaults when absent
  std::vector<std::string> capabilities;
};

struct LoginCredentials {
  std::string client_id;
  std::string username;
  std::string password;  // a secret
  // Topic name ("agent-connection", "inbox-cmd", ...) → topic, with
  // "#{claim_id}" already replaced by the claim id.
  std::map<std::string, std::string> topics;
};

// What a failed call tells the caller to do next, from the cloud's error
// body (errorNonRetryable, errorRetryDelaySeconds) or 429 Retry-After.
struct RetryAdvice {
  bool banned = false;  // errorNonRetryable: no attempt until reload/reclaim
  absl::Duration not_before = absl::ZeroDuration();  // no attempt before this
};

class CloudApi {
 public:
  // `http` must outlive the CloudApi. `base_url` has no trailing '/'.
  CloudApi(http::HttpClient* http, http::TransportOptions transport,
           std::string base_url, std::string claim_id,
           std::string agent_version);

  // Step 1. Errors (UNAVAILABLE unless noted): ENV_FAILED with the cloud's
  // error (and `advice`), ENV_INVALID for a body without a usable MQTTv5
  // transport or encoding other than proto, transport reasons.
  absl::StatusOr<LinkEnv> GetEnv(RetryAdvice* advice);

  // Steps 2–3 with the node's private key PEM. Errors (UNAVAILABLE unless
  // noted): LOGIN_FAILED with the cloud's error (and `advice`; BANNED,
  // PERMISSION_DENIED, when it is non-retryable), CHALLENGE_INVALID (not
  // base64, wrong size, does not decrypt), LOGIN_INVALID for an answer
  // without credentials or without the agent-connection topic, KEY_INVALID
  // (FAILED_PRECONDITION) when `private_pem` does not parse, transport
  // reasons.
  absl::StatusOr<LoginCredentials> Login(const LinkEnv& env,
                                         const std::string& private_pem,
                                         RetryAdvice* advice);

 private:
  http::HttpClient* http_;
  http::TransportOptions transport_;
  std::string base_url_;
  std::string claim_id_;
  std::string agent_version_;
};

// Parses an error answer of the cloud: its status, errorCode, errorMsgKey,
// errorMessage, errorNonRetryable, errorRetryDelaySeconds and Retry-After.
// Returns UNAVAILABLE (or PERMISSION_DENIED when banned) with `reason` and a
// sentence made of the cloud's message; fills `advice`.
absl::Status CloudErrorStatus(const http::HttpResponse& response,
                              const Reason& reason, absl::string_view what,
                              RetryAdvice* advice);

}  // namespace cloudlink::cloud

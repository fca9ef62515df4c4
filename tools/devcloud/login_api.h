#pragma once

// The link-login side of the dev cloud: the env
// document, the RSA challenge and the password exchange that issues MQTT
// credentials. Each call is a plain function of the request's parts; the
// HTTP wiring is in dev_cloud_server.h. Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/devcloud/http_answer.h"
#include "tools/devcloud/node_registry.h"
#include "tools/devcloud/space_directory.h"

namespace cloudlink::devcloud {

// Where the login sends a node next; fixed once the dev cloud serves.
struct LoginEndpoints {
  std::string auth_endpoint;  // https://127.0.0.1:PORT/api/v1/auth
  std::string mqtt_endpoint;  // wss://localhost:WSPORT/mqtt
};

// Installs MQTT credentials for a node; returns once the broker accepts them
// (or an error). Implemented by Broker::SetNodePassword in the binary.
using CredentialInstaller = std::function<absl::Status(
    absl::string_view username, absl::string_view password)>;

class LoginApi {
 public:
  static constexpr absl::Duration kChallengeLifetime = absl::Seconds(60);

  // `spaces` and `nodes` must outlive the LoginApi. `now` is the clock (a
  // seam for tests).
  LoginApi(SpaceDirectory* spaces, NodeRegistry* nodes,
           LoginEndpoints endpoints, CredentialInstaller install_credentials,
           std::function<absl::Time()> now = absl::Now);

  // GET /api/v1/env?v=..&cap=..&claim_id=.. → 200 {"encoding":"proto",
  // "authEndpoint","transports":[{"type":"MQTTv5","endpoint"}],
  // "backoff":{"base","minSeconds","maxSeconds"},"capabilities":["proto",
  // "ctx"]}; 403 with an error body for an unknown claim id.
  HttpAnswer Env(absl::string_view claim_id) const;

  // GET /api/v1/auth/node/{claim_id}/challenge → 200 {"challenge":base64 of
  // RSA-OAEP (SHA-1, MGF1-SHA-1) encryption of 32 random bytes with the
  // node's public key}. The challenge is single-use and expires after
  // kChallengeLifetime. 403 for an unknown claim id.
  HttpAnswer Challenge(absl::string_view claim_id);

  // POST /api/v1/auth/node/{claim_id}/password with {"agent_version",
  // "response":base64(secret)}. Any call uses up the node's outstanding
  // challenges. 201 {"clientID","username","password","topics":[...]}
  // when the response matches one that has not expired, after the broker
  // accepted the new password; 403 (wrong, expired or no challenge; unknown
  // claim id); 400 malformed body; 503 when the broker cannot take the
  // credentials.
  HttpAnswer Password(absl::string_view claim_id, absl::string_view body);

 private:
  struct PendingChallenge {
    std::string secret;
    absl::Time expires;
  };

  SpaceDirectory* spaces_;
  NodeRegistry* nodes_;
  const LoginEndpoints endpoints_;
  const CredentialInstaller install_credentials_;
  const std::function<absl::Time()> now_;
  std::mutex mu_;
  // By claim id; guarded by mu_.
  std::map<std::string, std::vector<PendingChallenge>> challenges_;
};

// The topics the password answer lists, with "#{claim_id}" left literal.
// Names: agent-connection, inbox-cmd, create-node-instance,
// node-instance-connection, node-instance-info, chart-and-dims-updated,
// alarm-log.
nlohmann::json TopicList();

// `topic` with every "#{claim_id}" replaced by `claim_id`.
std::string TopicFor(absl::string_view topic, absl::string_view claim_id);

}  // namespace cloudlink::devcloud

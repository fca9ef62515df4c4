#include "tools/devcloud/login_api.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/common/log.h"
#include "server/common/uuid.h"
#include "tools/devcloud/random_token.h"

namespace cloudlink::devcloud {

using nlohmann::json;

namespace {

constexpr size_t kChallengeBytes = 32;
constexpr size_t kMaxPendingPerNode = 8;
constexpr size_t kMqttPasswordLength = 40;

HttpAnswer UnknownNode() {
  return ErrorAnswer(403, "node-not-claimed", "ErrNotClaimed",
                     "this claim id is not claimed in the cloud");
}

// RSA-OAEP (SHA-1, MGF1-SHA-1) encryption of `plain` with the public key
// `pem`; "" on failure.
std::string OaepEncrypt(absl::string_view pem, absl::string_view plain) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return "";
  std::string out;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  size_t len = 0;
  if (ctx != nullptr && EVP_PKEY_encrypt_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1 &&
      EVP_PKEY_encrypt(ctx, nullptr, &len,
                       reinterpret_cast<const unsigned char*>(plain.data()),
                       plain.size()) == 1) {
    out.resize(len);
    if (EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char*>(out.data()),
                         &len,
                         reinterpret_cast<const unsigned char*>(plain.data()),
                         plain.size()) == 1) {
      out.resize(len);
    } else {
      out.clear();
    }
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace

json TopicList() {
  const char* kTopics[][2] = {
      {"agent-connection", "/agent/#{claim_id}/outbound/v1/ConnectionUpdate"},
      {"inbox-cmd", "/agent/#{claim_id}/inbound/v2/cmd"},
      {"create-node-instance",
       "/agent/#{claim_id}/outbound/v1/CreateNodeInstance"},
      {"node-instance-connection",
       "/agent/#{claim_id}/outbound/v1/UpdateNodeInstanceConnection"},
      {"node-instance-info", "/agent/#{claim_id}/outbound/v1/UpdateNodeInfo"},
      {"chart-and-dims-updated",
       "/agent/#{claim_id}/outbound/v1/ChartsAndDimensionsUpdated"},
      {"alarm-log", "/agent/#{claim_id}/outbound/v1/AlarmLog"},
  };
  json topics = json::array();
  for (const auto& topic : kTopics) {
    topics.push_back({{"name", topic[0]}, {"topic", topic[1]}});
  }
  return topics;
}

std::string TopicFor(absl::string_view topic, absl::string_view claim_id) {
  return absl::StrReplaceAll(topic, {{"#{claim_id}", claim_id}});
}

LoginApi::LoginApi(SpaceDirectory* spaces, NodeRegistry* nodes,
                   LoginEndpoints endpoints,
                   CredentialInstaller install_credentials,
                   std::function<absl::Time()> now)
    : spaces_(spaces),
      nodes_(nodes),
      endpoints_(std::move(endpoints)),
      install_credentials_(std::move(install_credentials)),
      now_(std::move(now)) {}

HttpAnswer LoginApi::Env(absl::string_view claim_id) const {
  if (!IsUuid(claim_id) || !nodes_->Find(claim_id)) return UnknownNode();
  BackoffConfig backoff = spaces_->backoff();
  HttpAnswer answer;
  answer.body = {
      {"encoding", "proto"},
      {"authEndpoint", endpoints_.auth_endpoint},
      {"transports", json::array({{{"type", "MQTTv5"},
                                   {"endpoint", endpoints_.mqtt_endpoint}}})},
      {"backoff",
       {{"base", backoff.base},
        {"minSeconds", backoff.min_seconds},
        {"maxSeconds", backoff.max_seconds}}},
      {"capabilities", json::array({"proto", "ctx"})},
  };
  return answer;
}

HttpAnswer LoginApi::Challenge(absl::string_view claim_id) {
  absl::optional<Node> node =
      IsUuid(claim_id) ? nodes_->Find(claim_id) : absl::nullopt;
  if (!node) return UnknownNode();
  std::string secret = RandomBytes(kChallengeBytes);
  std::string encrypted = OaepEncrypt(node->public_key_pem, secret);
  if (encrypted.empty()) {
    return ErrorAnswer(500, "internal", "ErrInternal",
                       "cannot encrypt with the node's public key");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<PendingChallenge>& pending = challenges_[node->claim_id];
    if (pending.size() >= kMaxPendingPerNode) pending.erase(pending.begin());
    pending.push_back({secret, now_() + kChallengeLifetime});
  }
  HttpAnswer answer;
  answer.body = {{"challenge", absl::Base64Escape(encrypted)}};
  return answer;
}

HttpAnswer LoginApi::Password(absl::string_view claim_id,
                              absl::string_view body) {
  absl::optional<Node> node =
      IsUuid(claim_id) ? nodes_->Find(claim_id) : absl::nullopt;
  if (!node) return UnknownNode();
  json doc = json::parse(body.begin(), body.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("response") ||
      !doc["response"].is_string()) {
    return ErrorAnswer(400, "bad-request", "ErrBadRequest",
                       "the body needs \"response\" (base64)");
  }
  std::string response;
  bool decoded =
      absl::Base64Unescape(doc["response"].get<std::string>(), &response);
  std::vector<PendingChallenge> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = challenges_.find(node->claim_id);
    if (it != challenges_.end()) {
      pending = std::move(it->second);
      challenges_.erase(it);
    }
  }
  bool matched = false;
  absl::Time now = now_();
  for (const PendingChallenge& p : pending) {
    matched |= decoded && p.expires > now && SecretEquals(p.secret, response);
  }
  if (!matched) {
    LogInfo(absl::StrCat(
        "login refused for ", node->claim_id,
        pending.empty() ? " (no challenge)" : " (wrong or expired response)"));
    return ErrorAnswer(403, "auth-challenge-failed", "ErrChallengeFailed",
                       "the challenge response is wrong, expired or was "
                       "already used");
  }
  std::string password = RandomToken(kMqttPasswordLength);
  absl::Status installed = install_credentials_(node->claim_id, password);
  if (!installed.ok()) {
    LogError(
        absl::StrCat("login of ", node->claim_id, ": ", installed.message()));
    return ErrorAnswer(503, "broker-unavailable", "ErrBrokerUnavailable",
                       "the broker cannot take new credentials right now");
  }
  LogInfo(absl::StrCat("login of ", node->claim_id, " (agent version ",
                       doc.value("agent_version", "?"), ")"));
  HttpAnswer answer;
  answer.status = 201;
  answer.body = {{"clientID", node->claim_id},
                 {"username", node->claim_id},
                 {"password", password},
                 {"topics", TopicList()}};
  return answer;
}

}  // namespace cloudlink::devcloud

// The cloud's JSON answers to the link's HTTPS calls (server/link/
// cloud_api.h), through CloudApi with an HttpClient that answers with the
// fuzz input.
//
// Input: byte 0 picks the step, byte 1 the HTTP status; for 429 a
// Retry-After field follows ('\n'-terminated); the rest is the body.
//   step 0  GET env                → body
//   step 1  GET challenge          → body
//   step 2  GET challenge → a valid challenge; POST password → body
// Checks: a result or an UPPER_SNAKE-reasoned error of the documented
// codes; a parsed env has proto encoding, https:// auth and wss:// MQTT
// endpoints; credentials have the agent-connection topic; advice delays are
// within a week; no error message contains the MQTT password.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/cloud/cloud_api.h"
#include "server/common/error.h"
#include "server/http/http_client.h"

namespace cloudlink::fuzz {
namespace {

constexpr char kBaseUrl[] = "https://cloud.example:8443";
constexpr char kClaimId[] = "0b4c6b2e-7d3f-4a51-9c8e-2f1e5d6a7b80";

// Answers each request with the next response of a fixed list.
class ListHttpClient : public http::HttpClient {
 public:
  void Add(http::HttpResponse response) {
    responses_.push_back(std::move(response));
  }
  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request,
      const http::TransportOptions& options) override {
    if (next_ >= responses_.size()) {
      return Error(absl::StatusCode::kInternal, reason::kConnectFailed,
                   "the fuzz input scripted no answer left");
    }
    return responses_[next_++];
  }

 private:
  std::vector<http::HttpResponse> responses_;
  size_t next_ = 0;
};

// A node key (1024 bits: the size does not matter to the parsing, and a
// smaller key decrypts faster) and a challenge encrypted to it, made once.
struct NodeKey {
  std::string private_pem;
  std::string challenge_json;
};

const NodeKey& TheNodeKey() {
  static const NodeKey* key = [] {
    auto* made = new NodeKey;
    EVP_PKEY* pkey = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr);
    FUZZ_CHECK(ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 &&
                   EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024) == 1 &&
                   EVP_PKEY_keygen(ctx, &pkey) == 1,
               "RSA key generation");
    EVP_PKEY_CTX_free(ctx);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* pem = nullptr;
    long pem_len = BIO_get_mem_data(bio, &pem);
    made->private_pem.assign(pem, pem_len);
    BIO_free(bio);

    const std::string secret(32, 's');
    EVP_PKEY_CTX* enc = EVP_PKEY_CTX_new(pkey, nullptr);
    size_t out_len = 0;
    FUZZ_CHECK(
        enc != nullptr && EVP_PKEY_encrypt_init(enc) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(enc, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(enc, EVP_sha1()) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(enc, EVP_sha1()) == 1 &&
            EVP_PKEY_encrypt(
                enc, nullptr, &out_len,
                reinterpret_cast<const unsigned char*>(secret.data()),
                secret.size()) == 1,
        "RSA-OAEP set-up");
    std::string ciphertext(out_len, '\0');
    FUZZ_CHECK(
        EVP_PKEY_encrypt(enc, reinterpret_cast<unsigned char*>(&ciphertext[0]),
                         &out_len,
                         reinterpret_cast<const unsigned char*>(secret.data()),
                         secret.size()) == 1,
        "RSA-OAEP encryption");
    ciphertext.resize(out_len);
    EVP_PKEY_CTX_free(enc);
    EVP_PKEY_free(pkey);
    made->challenge_json =
        "{\"challenge\":\"" + absl::Base64Escape(ciphertext) + "\"}";
    return made;
  }();
  return *key;
}

bool IsUpperSnake(absl::string_view reason) {
  if (reason.empty()) return false;
  for (char c : reason) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

void CheckError(const absl::Status& status, const cloud::RetryAdvice& advice) {
  FUZZ_CHECK(IsUpperSnake(ReasonOf(status)),
             "error without a reason: " + status.ToString());
  FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable ||
                 status.code() == absl::StatusCode::kPermissionDenied,
             status.ToString());
  FUZZ_CHECK(advice.not_before >= absl::ZeroDuration() &&
                 advice.not_before <= absl::Hours(7 * 24),
             "retry advice out of range");
  FUZZ_CHECK(
      advice.banned == (status.code() == absl::StatusCode::kPermissionDenied),
      "banned advice and status disagree: " + status.ToString());
}

cloud::LinkEnv ValidEnv() {
  cloud::LinkEnv env;
  env.encoding = "proto";
  env.auth_endpoint = "https://cloud.example:8443/api/v1/auth";
  env.mqtt_endpoint = "wss://mqtt.example/mqtt";
  env.capabilities = {"proto"};
  return env;
}

void Run(const uint8_t* data, size_t size) {
  static constexpr int kStatuses[] = {200, 201, 200, 201, 400, 401, 403,
                                      404, 429, 500, 503, 504, 0,   302};
  FuzzInput in(data, size);
  const int step = in.Byte() % 3;
  http::HttpResponse answer;
  answer.status = kStatuses[in.Byte() % 14];
  if (answer.status == 429) answer.headers["retry-after"] = in.Field();
  answer.body = in.Rest();

  const NodeKey& key = TheNodeKey();
  ListHttpClient http;
  if (step == 2) {
    http::HttpResponse challenge;
    challenge.status = 200;
    challenge.body = key.challenge_json;
    http.Add(challenge);
  }
  http.Add(answer);
  cloud::CloudApi api(&http, http::TransportOptions(), kBaseUrl, kClaimId,
                      "v1.0.0");
  cloud::RetryAdvice advice;
  if (step == 0) {
    absl::StatusOr<cloud::LinkEnv> env = api.GetEnv(&advice);
    if (!env.ok()) {
      CheckError(env.status(), advice);
      return;
    }
    FUZZ_CHECK(env->encoding == "proto", env->encoding);
    FUZZ_CHECK(absl::StartsWith(env->auth_endpoint, "https://"), "auth");
    FUZZ_CHECK(absl::StartsWith(env->mqtt_endpoint, "wss://"), "mqtt");
    return;
  }
  absl::StatusOr<cloud::LoginCredentials> creds =
      api.Login(ValidEnv(), key.private_pem, &advice);
  if (!creds.ok()) {
    CheckError(creds.status(), advice);
    return;
  }
  FUZZ_CHECK(step == 2, "logged in on a fuzzed challenge");
  FUZZ_CHECK(!creds->client_id.empty() && !creds->username.empty() &&
                 !creds->password.empty(),
             "credentials incomplete");
  FUZZ_CHECK(creds->topics.count("agent-connection") == 1,
             "no agent-connection topic");
  for (const auto& topic : creds->topics) {
    FUZZ_CHECK(!absl::StrContains(topic.second, "#{claim_id}"),
               "claim id not substituted");
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

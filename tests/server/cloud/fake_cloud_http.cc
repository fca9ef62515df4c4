#include "tests/server/cloud/fake_cloud_http.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace cloudlink::testing {
namespace {

using nlohmann::json;

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

EVP_PKEY* NodeKey() {
  static EVP_PKEY* key = [] {
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(
        EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr));
    EVP_PKEY* made = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) != 1 ||
        EVP_PKEY_keygen(ctx.get(), &made) != 1) {
      return static_cast<EVP_PKEY*>(nullptr);
    }
    return made;
  }();
  return key;
}

}  // namespace

std::string FakeCloudHttp::EncryptToNode(const std::string& plaintext) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(
      EVP_PKEY_CTX_new(NodeKey(), nullptr));
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(plaintext.data());
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, plaintext.size()) != 1) {
    return "";
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(&out[0]),
                       &len, in, plaintext.size()) != 1) {
    return "";
  }
  out.resize(len);
  return out;
}

namespace {

// The claim id in ".../node/<claim id>/challenge".
std::string ClaimIdOf(absl::string_view url) {
  std::vector<absl::string_view> parts = absl::StrSplit(url, '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == "node") return std::string(parts[i + 1]);
  }
  return "";
}

http::HttpResponse Answer(int status, const json& body) {
  http::HttpResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

}  // namespace

const std::string& FakeCloudHttp::NodeKeyPem() {
  static const std::string* pem = [] {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), NodeKey(), nullptr, nullptr, 0, nullptr,
                             nullptr);
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return new std::string(data, static_cast<size_t>(len));
  }();
  return *pem;
}

void FakeCloudHttp::HoldNext(std::string url_part) {
  MutexLock lock(&mu_);
  hold_part_ = std::move(url_part);
  holding_ = false;
  released_ = false;
}

bool FakeCloudHttp::WaitHeld(absl::Duration timeout) {
  MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(&holding_, timeout);
}

void FakeCloudHttp::Release() {
  MutexLock lock(&mu_);
  released_ = true;
}

std::vector<std::string> FakeCloudHttp::urls() const {
  MutexLock lock(&mu_);
  return urls_;
}

absl::StatusOr<http::HttpResponse> FakeCloudHttp::Send(
    const http::HttpRequest& request, const http::TransportOptions&) {
  {
    MutexLock lock(&mu_);
    urls_.push_back(request.url);
    if (!hold_part_.empty() && absl::StrContains(request.url, hold_part_)) {
      hold_part_.clear();
      holding_ = true;
      mu_.AwaitWithTimeout(&released_, absl::Seconds(30));
      holding_ = false;
    }
  }
  if (absl::StrContains(request.url, "/api/v1/env")) {
    return Answer(
        200,
        json{{"encoding", "proto"},
             {"authEndpoint", "https://cloud.test/api/v1/auth"},
             {"transports", json::array({{{"type", "MQTTv5"},
                                          {"endpoint", mqtt_endpoint_}}})},
             {"backoff", {{"base", 2}, {"minSeconds", 1}, {"maxSeconds", 2}}},
             {"capabilities", json::array({"proto"})}});
  }
  const std::string claim_id = ClaimIdOf(request.url);
  if (absl::EndsWith(request.url, "/challenge")) {
    return Answer(
        200, json{{"challenge", absl::Base64Escape(FakeCloudHttp::EncryptToNode(
                                    "a secret of the test cloud"))}});
  }
  if (absl::EndsWith(request.url, "/password")) {
    const std::string prefix = absl::StrCat("/agent/", claim_id);
    return Answer(
        201,
        json{
            {"clientID", claim_id},
            {"username", claim_id},
            {"password", "mqtt-password"},
            {"topics",
             json::array(
                 {{{"name", "agent-connection"},
                   {"topic", prefix + "/outbound/v1/ConnectionUpdate"}},
                  {{"name", "inbox-cmd"},
                   {"topic", prefix + "/inbound/v2/cmd"}},
                  {{"name", "create-node-instance"},
                   {"topic", prefix + "/outbound/v1/CreateNodeInstance"}},
                  {{"name", "node-instance-connection"},
                   {"topic",
                    prefix + "/outbound/v1/UpdateNodeInstanceConnection"}}})}});
  }
  return Answer(404, json{{"errorMsgKey", "ErrNotFound"}});
}

}  // namespace cloudlink::testing

#include "server/cloud/cloud_api.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "tests/server/cloud/fake_cloud_http.h"

namespace cloudlink::cloud {
namespace {

using nlohmann::json;

constexpr char kBaseUrl[] = "https://cloud.example:8443";
constexpr char kClaimId[] = "0b4c6b2e-7d3f-4a51-9c8e-2f1e5d6a7b80";
constexpr char kVersion[] = "v1.44.0-12-nightly";
constexpr char kAuthEndpoint[] = "https://cloud.example:8443/api/v1/auth/";

// A scripted HttpClient: answers requests in order from its script and
// records what it was asked.
class FakeHttpClient : public http::HttpClient {
 public:
  void Answer(int status, std::string body,
              std::map<std::string, std::string> headers = {}) {
    http::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    script_.push_back(std::move(response));
  }
  void Answer(int status, const json& body) { Answer(status, body.dump()); }
  void Fail(absl::Status status) { script_.push_back(std::move(status)); }

  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request,
      const http::TransportOptions& options) override {
    requests_.push_back(request);
    options_.push_back(options);
    if (script_.empty()) {
      ADD_FAILURE() << "unscripted request to " << request.url;
      return absl::InternalError("unscripted request");
    }
    absl::StatusOr<http::HttpResponse> next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  const std::vector<http::HttpRequest>& requests() const { return requests_; }
  const std::vector<http::TransportOptions>& options() const {
    return options_;
  }
  size_t unanswered() const { return script_.size(); }

 private:
  std::deque<absl::StatusOr<http::HttpResponse>> script_;
  std::vector<http::HttpRequest> requests_;
  std::vector<http::TransportOptions> options_;
};

json FullEnv() {
  return json{
      {"encoding", "proto"},
      {"authEndpoint", "https://cloud.example:8443/api/v1/auth"},
      {"transports",
       json::array({
           {{"type", "MQTTv3"}, {"endpoint", "wss://old/mqtt"}},
           {{"type", "MQTTv5"}, {"endpoint", "wss://mqtt.example:443/mqtt"}},
           {{"type", "MQTTv5"}, {"endpoint", "wss://second/mqtt"}},
       })},
      {"backoff", {{"base", 3}, {"minSeconds", 2}, {"maxSeconds", 600}}},
      {"capabilities", json::array({"proto", "ctx", "future-thing"})},
      {"someFutureKey", {{"nested", json::array({1, 2, 3})}}},
  };
}

class CloudApiTest : public ::testing::Test {
 protected:
  CloudApiTest() {
    transport_.insecure = true;
    transport_.ca_file = "/etc/cloudlink/ca.pem";
    api_ = std::make_unique<CloudApi>(&http_, transport_, kBaseUrl, kClaimId,
                                      kVersion);
  }

  FakeHttpClient http_;
  http::TransportOptions transport_;
  std::unique_ptr<CloudApi> api_;
};

// --- GetEnv ------------------------------------------------------------------

TEST_F(CloudApiTest, GetEnvParsesFullAnswer) {
  http_.Answer(200, FullEnv());
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->encoding, "proto");
  EXPECT_EQ(env->auth_endpoint, "https://cloud.example:8443/api/v1/auth");
  EXPECT_EQ(env->mqtt_endpoint, "wss://mqtt.example:443/mqtt");
  EXPECT_EQ(env->backoff.base, 3);
  EXPECT_EQ(env->backoff.min, absl::Seconds(2));
  EXPECT_EQ(env->backoff.max, absl::Seconds(600));
  EXPECT_EQ(env->capabilities,
            (std::vector<std::string>{"proto", "ctx", "future-thing"}));
  EXPECT_FALSE(advice.banned);
  EXPECT_EQ(advice.not_before, absl::ZeroDuration());

  ASSERT_EQ(http_.requests().size(), 1u);
  const http::HttpRequest& request = http_.requests()[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, absl::StrCat(kBaseUrl, "/api/v1/env?v=", kVersion,
                                      "&cap=proto,ctx&claim_id=", kClaimId));
  EXPECT_TRUE(request.body.empty());
  // The caller's transport decisions are used as given.
  EXPECT_TRUE(http_.options()[0].insecure);
  EXPECT_EQ(http_.options()[0].ca_file, "/etc/cloudlink/ca.pem");
}

TEST_F(CloudApiTest, GetEnvDefaultsBackoffWhenAbsent) {
  json body = FullEnv();
  body.erase("backoff");
  http_.Answer(200, body);
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_TRUE(env.ok()) << env.status();
  const BackoffParams defaults;
  EXPECT_EQ(env->backoff.base, defaults.base);
  EXPECT_EQ(env->backoff.min, defaults.min);
  EXPECT_EQ(env->backoff.max, defaults.max);
}

TEST_F(CloudApiTest, GetEnvRejectsUnusableAnswers) {
  struct Case {
    const char* name;
    std::string body;
  };
  std::vector<Case> cases;
  {
    json b = FullEnv();
    b["encoding"] = "json";
    cases.push_back({"encoding json", b.dump()});
  }
  {
    json b = FullEnv();
    b.erase("encoding");
    cases.push_back({"no encoding", b.dump()});
  }
  {
    json b = FullEnv();
    b["capabilities"] = json::array({"ctx", "json"});
    cases.push_back({"no proto capability", b.dump()});
  }
  {
    json b = FullEnv();
    b.erase("capabilities");
    cases.push_back({"no capabilities", b.dump()});
  }
  {
    json b = FullEnv();
    b["transports"] =
        json::array({{{"type", "MQTTv3"}, {"endpoint", "wss://old/mqtt"}},
                     {{"type", "mqttv5"}, {"endpoint", "wss://case/mqtt"}}});
    cases.push_back({"no MQTTv5 transport", b.dump()});
  }
  {
    json b = FullEnv();
    b.erase("transports");
    cases.push_back({"no transports", b.dump()});
  }
  {
    json b = FullEnv();
    b["transports"] = json::array(
        {{{"type", "MQTTv5"}, {"endpoint", "ws://plain.example/mqtt"}}});
    cases.push_back({"ws endpoint", b.dump()});
  }
  {
    json b = FullEnv();
    b["transports"] = json::array(
        {{{"type", "MQTTv5"}, {"endpoint", "https://mqtt.example/mqtt"}}});
    cases.push_back({"https endpoint", b.dump()});
  }
  {
    json b = FullEnv();
    b.erase("authEndpoint");
    cases.push_back({"no authEndpoint", b.dump()});
  }
  cases.push_back({"not JSON", "<html>gateway</html>"});
  cases.push_back({"JSON array", "[1,2]"});

  for (const Case& c : cases) {
    FakeHttpClient http;
    CloudApi api(&http, transport_, kBaseUrl, kClaimId, kVersion);
    http.Answer(200, c.body);
    RetryAdvice advice;
    absl::StatusOr<LinkEnv> env = api.GetEnv(&advice);
    ASSERT_FALSE(env.ok()) << c.name;
    EXPECT_EQ(ReasonOf(env.status()), "ENV_INVALID")
        << c.name << ": " << env.status();
    EXPECT_EQ(env.status().code(), absl::StatusCode::kUnavailable) << c.name;
    EXPECT_FALSE(advice.banned);
  }
}

TEST_F(CloudApiTest, GetEnvErrorBodyNamesTheCloudsMessage) {
  http_.Answer(503, json{{"errorCode", "E503"},
                         {"errorMsgKey", "ErrServiceUnavailable"},
                         {"errorMessage", "maintenance until noon"}});
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(ReasonOf(env.status()), "ENV_FAILED") << env.status();
  EXPECT_EQ(env.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(env.status().message(), "503"));
  EXPECT_TRUE(
      absl::StrContains(env.status().message(), "maintenance until noon"));
  EXPECT_TRUE(
      absl::StrContains(env.status().message(), "ErrServiceUnavailable"));
  EXPECT_FALSE(advice.banned);
  EXPECT_EQ(advice.not_before, absl::ZeroDuration());
}

TEST_F(CloudApiTest, GetEnvNonRetryableIsBanned) {
  http_.Answer(403, json{{"errorMsgKey", "ErrNodeBanned"},
                         {"errorMessage", "this node is banned"},
                         {"errorNonRetryable", true}});
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(ReasonOf(env.status()), "BANNED") << env.status();
  EXPECT_EQ(env.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(env.status().message(), "this node is banned"));
  EXPECT_TRUE(advice.banned);
}

TEST_F(CloudApiTest, GetEnvRetryDelaySetsNotBefore) {
  http_.Answer(500, json{{"errorMessage", "busy"},
                         {"errorRetryDelaySeconds", 120},
                         {"errorNonRetryable", false}});
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(ReasonOf(env.status()), "ENV_FAILED");
  EXPECT_FALSE(advice.banned);
  EXPECT_EQ(advice.not_before, absl::Seconds(120));
}

TEST_F(CloudApiTest, GetEnv429HonoursRetryAfter) {
  http_.Answer(429, "Too Many Requests", {{"retry-after", "30"}});
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(ReasonOf(env.status()), "ENV_FAILED");
  EXPECT_TRUE(absl::StrContains(env.status().message(), "429"));
  EXPECT_EQ(advice.not_before, absl::Seconds(30));

  // The longer of Retry-After and errorRetryDelaySeconds wins.
  http_.Answer(429, json{{"errorRetryDelaySeconds", 90}}.dump(),
               {{"retry-after", "30"}});
  env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(advice.not_before, absl::Seconds(90));

  // Retry-After means nothing on other statuses.
  http_.Answer(503, "", {{"retry-after", "30"}});
  env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(advice.not_before, absl::ZeroDuration());
}

TEST_F(CloudApiTest, GetEnvResetsAdviceOnSuccess) {
  http_.Answer(403, json{{"errorNonRetryable", true}});
  http_.Answer(200, FullEnv());
  RetryAdvice advice;
  EXPECT_FALSE(api_->GetEnv(&advice).ok());
  EXPECT_TRUE(advice.banned);
  EXPECT_TRUE(api_->GetEnv(&advice).ok());
  EXPECT_FALSE(advice.banned);
}

TEST_F(CloudApiTest, GetEnvPassesTransportErrorsThrough) {
  http_.Fail(Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                   "connection refused"));
  RetryAdvice advice;
  absl::StatusOr<LinkEnv> env = api_->GetEnv(&advice);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(ReasonOf(env.status()), "CONNECT_FAILED");
  EXPECT_EQ(env.status().code(), absl::StatusCode::kUnavailable);
}

// --- Login -------------------------------------------------------------------

// A 32-byte secret with every kind of byte in it (NUL, high bit).
std::string Secret() {
  std::string secret;
  for (int i = 0; i < 32; ++i) {
    secret.push_back(static_cast<char>((i * 37 + 0xC3) & 0xFF));
  }
  secret[3] = '\0';
  return secret;
}

json PasswordAnswer() {
  return json{
      {"clientID", "client-1"},
      {"username", "user-1"},
      {"password", "mqtt-pa55word"},
      {"topics",
       json::array({
           {{"name", "agent-connection"},
            {"topic", "/agent/#{claim_id}/outbound/v1/AgentConnection"}},
           {{"name", "inbox-cmd"},
            {"topic", "/agent/#{claim_id}/inbound/v1/cmd/#{claim_id}"}},
           {{"name", "chart"}, {"topic", "/plain/topic"}},
           {{"name", ""}, {"topic", "/ignored"}},
           {{"name", "no-topic"}},
       })},
  };
}

class CloudApiLoginTest : public CloudApiTest {
 protected:
  static void SetUpTestSuite() {
    pem_ = &testing::FakeCloudHttp::NodeKeyPem();
    ASSERT_TRUE(absl::StartsWith(*pem_, "-----BEGIN PRIVATE KEY-----"));
  }

  LinkEnv Env() {
    LinkEnv env;
    env.encoding = "proto";
    env.auth_endpoint = kAuthEndpoint;
    env.mqtt_endpoint = "wss://mqtt.example/mqtt";
    return env;
  }

  std::string Challenge() {
    std::string ciphertext = testing::FakeCloudHttp::EncryptToNode(Secret());
    EXPECT_EQ(ciphertext.size(), 256u);
    return absl::Base64Escape(ciphertext);
  }

  absl::StatusOr<LoginCredentials> Login() {
    return api_->Login(Env(), *pem_, &advice_);
  }

  std::string ChallengeUrl() const {
    return absl::StrCat(kBaseUrl, "/api/v1/auth/node/", kClaimId, "/challenge");
  }
  std::string PasswordUrl() const {
    return absl::StrCat(kBaseUrl, "/api/v1/auth/node/", kClaimId, "/password");
  }

  static const std::string* pem_;
  RetryAdvice advice_;
};

const std::string* CloudApiLoginTest::pem_ = nullptr;

TEST_F(CloudApiLoginTest, AnswersTheChallengeAndReturnsCredentials) {
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Answer(201, PasswordAnswer());
  absl::StatusOr<LoginCredentials> creds = Login();
  ASSERT_TRUE(creds.ok()) << creds.status();

  ASSERT_EQ(http_.requests().size(), 2u);
  const http::HttpRequest& challenge = http_.requests()[0];
  EXPECT_EQ(challenge.method, "GET");
  EXPECT_EQ(challenge.url, ChallengeUrl());

  const http::HttpRequest& password = http_.requests()[1];
  EXPECT_EQ(password.method, "POST");
  EXPECT_EQ(password.url, PasswordUrl());
  bool json_type = false;
  for (const auto& header : password.headers) {
    if (absl::EqualsIgnoreCase(header.first, "Content-Type")) {
      json_type = header.second == "application/json";
    }
  }
  EXPECT_TRUE(json_type);
  json body = json::parse(password.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << password.body;
  EXPECT_EQ(body.value("agent_version", ""), kVersion);
  std::string response = body.value("response", "");
  EXPECT_EQ(response, absl::Base64Escape(Secret()));
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(response, &decoded));
  EXPECT_EQ(decoded, Secret());
  EXPECT_EQ(http_.options()[1].ca_file, "/etc/cloudlink/ca.pem");

  EXPECT_EQ(creds->client_id, "client-1");
  EXPECT_EQ(creds->username, "user-1");
  EXPECT_EQ(creds->password, "mqtt-pa55word");
  EXPECT_EQ(
      creds->topics,
      (std::map<std::string, std::string>{
          {"agent-connection",
           absl::StrCat("/agent/", kClaimId, "/outbound/v1/AgentConnection")},
          {"inbox-cmd",
           absl::StrCat("/agent/", kClaimId, "/inbound/v1/cmd/", kClaimId)},
          {"chart", "/plain/topic"},
      }));
  EXPECT_FALSE(advice_.banned);
}

TEST_F(CloudApiLoginTest, PasswordAnswer200IsAcceptedToo) {
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Answer(200, PasswordAnswer());
  EXPECT_TRUE(Login().ok());
}

TEST_F(CloudApiLoginTest, MissingAgentConnectionTopicIsLoginInvalid) {
  json answer = PasswordAnswer();
  answer["topics"] = json::array(
      {{{"name", "inbox-cmd"}, {"topic", "/agent/#{claim_id}/inbound"}}});
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Answer(201, answer);
  absl::StatusOr<LoginCredentials> creds = Login();
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(ReasonOf(creds.status()), "LOGIN_INVALID") << creds.status();
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(creds.status().message(), "agent-connection"));
  EXPECT_FALSE(absl::StrContains(creds.status().message(), "mqtt-pa55word"));
}

TEST_F(CloudApiLoginTest, MissingCredentialFieldIsLoginInvalid) {
  for (const char* field : {"clientID", "username", "password"}) {
    FakeHttpClient http;
    CloudApi api(&http, transport_, kBaseUrl, kClaimId, kVersion);
    json answer = PasswordAnswer();
    answer.erase(field);
    http.Answer(200, json{{"challenge", Challenge()}});
    http.Answer(201, answer);
    absl::StatusOr<LoginCredentials> creds = api.Login(Env(), *pem_, &advice_);
    ASSERT_FALSE(creds.ok()) << field;
    EXPECT_EQ(ReasonOf(creds.status()), "LOGIN_INVALID") << field;
    EXPECT_FALSE(absl::StrContains(creds.status().message(), "mqtt-pa55word"));
  }
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Answer(201, std::string("not json"));
  EXPECT_EQ(ReasonOf(Login().status()), "LOGIN_INVALID");
}

TEST_F(CloudApiLoginTest, BadChallengesAreChallengeInvalid) {
  const std::string good = testing::FakeCloudHttp::EncryptToNode(Secret());
  std::string tampered = good;
  tampered[100] = static_cast<char>(tampered[100] ^ 0x01);
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"not base64", json{{"challenge", "!!! not base64 !!!"}}.dump()},
      {"empty", json{{"challenge", ""}}.dump()},
      {"missing", json{{"other", "x"}}.dump()},
      {"not a string", json{{"challenge", 12}}.dump()},
      {"not JSON", "challenge"},
      {"255 bytes",
       json{{"challenge", absl::Base64Escape(good.substr(0, 255))}}.dump()},
      {"257 bytes", json{{"challenge", absl::Base64Escape(good + "x")}}.dump()},
      {"32 bytes", json{{"challenge", absl::Base64Escape(Secret())}}.dump()},
      {"tampered", json{{"challenge", absl::Base64Escape(tampered)}}.dump()},
  };
  for (const auto& c : cases) {
    FakeHttpClient http;
    CloudApi api(&http, transport_, kBaseUrl, kClaimId, kVersion);
    http.Answer(200, c.second);
    absl::StatusOr<LoginCredentials> creds = api.Login(Env(), *pem_, &advice_);
    ASSERT_FALSE(creds.ok()) << c.first;
    EXPECT_EQ(ReasonOf(creds.status()), "CHALLENGE_INVALID")
        << c.first << ": " << creds.status();
    // The cloud's fault, worth retrying: the same code whatever the defect.
    EXPECT_EQ(creds.status().code(), absl::StatusCode::kUnavailable)
        << c.first << ": " << creds.status();
    EXPECT_EQ(http.requests().size(), 1u) << c.first << ": no password call";
  }
}

TEST_F(CloudApiLoginTest, UnparsableKeyIsKeyInvalid) {
  http_.Answer(200, json{{"challenge", Challenge()}});
  absl::StatusOr<LoginCredentials> creds =
      api_->Login(Env(), "-----BEGIN PRIVATE KEY-----\nAAAA\n", &advice_);
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(ReasonOf(creds.status()), "KEY_INVALID") << creds.status();
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(CloudApiLoginTest, ChallengeEndpointErrorIsLoginFailed) {
  http_.Answer(500, json{{"errorMessage", "database down"},
                         {"errorRetryDelaySeconds", 15}});
  absl::StatusOr<LoginCredentials> creds = Login();
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(ReasonOf(creds.status()), "LOGIN_FAILED") << creds.status();
  EXPECT_TRUE(absl::StrContains(creds.status().message(), "database down"));
  EXPECT_TRUE(absl::StrContains(creds.status().message(), "challenge"));
  EXPECT_EQ(advice_.not_before, absl::Seconds(15));
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(CloudApiLoginTest, PasswordEndpoint403IsLoginFailedWithMessage) {
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Answer(403, json{{"errorCode", "0x1F"},
                         {"errorMsgKey", "ErrWrongResponse"},
                         {"errorMessage", "the response does not match"}});
  absl::StatusOr<LoginCredentials> creds = Login();
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(ReasonOf(creds.status()), "LOGIN_FAILED") << creds.status();
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kUnavailable);
  const absl::string_view message = creds.status().message();
  EXPECT_TRUE(absl::StrContains(message, "403")) << message;
  EXPECT_TRUE(absl::StrContains(message, "password")) << message;
  EXPECT_TRUE(absl::StrContains(message, "the response does not match"));
  EXPECT_TRUE(absl::StrContains(message, "ErrWrongResponse"));
  // The answered secret is a credential: never in an error.
  EXPECT_FALSE(absl::StrContains(message, absl::Base64Escape(Secret())));
  EXPECT_FALSE(advice_.banned);
}

TEST_F(CloudApiLoginTest, PasswordEndpointNonRetryableIsBanned) {
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Answer(403, json{{"errorMessage", "node removed from space"},
                         {"errorNonRetryable", true}});
  absl::StatusOr<LoginCredentials> creds = Login();
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(ReasonOf(creds.status()), "BANNED") << creds.status();
  EXPECT_EQ(creds.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      absl::StrContains(creds.status().message(), "node removed from space"));
  EXPECT_TRUE(advice_.banned);
}

TEST_F(CloudApiLoginTest, TransportErrorOnPasswordPassesThrough) {
  http_.Answer(200, json{{"challenge", Challenge()}});
  http_.Fail(Error(absl::StatusCode::kUnavailable, reason::kTlsVerifyFailed,
                   "certificate has expired"));
  absl::StatusOr<LoginCredentials> creds = Login();
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(ReasonOf(creds.status()), "TLS_VERIFY_FAILED");
}

}  // namespace
}  // namespace cloudlink::cloud

// LoginApi on its own, with a fake clock and a recording credential
// installer: the challenge/password exchange and its refusals.

#include "tools/devcloud/login_api.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "server/common/uuid.h"
#include "server/state/file_system.h"
#include "tests/testing/test_env.h"
#include "tests/tools/devcloud/node_key.h"

namespace cloudlink::devcloud {
namespace {

using devcloud_testing::NodeKey;
using nlohmann::json;

class LoginApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spaces_ = *SpaceDirectory::Open(dir_.Join("devcloud.json"), &fs_);
    nodes_ = *NodeRegistry::Open(dir_.Join("nodes.json"), &fs_);
    Node node;
    node.claim_id = claim_id_;
    node.hostname = "n";
    node.machine_guid = NewUuidV4();
    node.space_id = spaces_->Spaces()[0].id;
    node.public_key_pem = key_.PublicPem();
    ASSERT_TRUE(nodes_->Add(node).ok());
    login_ = std::make_unique<LoginApi>(
        spaces_.get(), nodes_.get(),
        LoginEndpoints{"https://127.0.0.1:1/api/v1/auth",
                       "wss://localhost:2/mqtt"},
        [this](absl::string_view user, absl::string_view password) {
          installed_.emplace_back(std::string(user), std::string(password));
          return install_result_;
        },
        [this] { return now_; });
  }

  // The decrypted secret of a fresh challenge.
  std::string SolveChallenge() {
    HttpAnswer answer = login_->Challenge(claim_id_);
    EXPECT_EQ(answer.status, 200);
    std::string encrypted;
    EXPECT_TRUE(absl::Base64Unescape(
        answer.body.value("challenge", std::string()), &encrypted));
    EXPECT_EQ(encrypted.size(), 256u);
    return key_.Decrypt(encrypted);
  }

  HttpAnswer Answer(const std::string& secret) {
    return login_->Password(
        claim_id_,
        json{{"agent_version", "t"}, {"response", absl::Base64Escape(secret)}}
            .dump());
  }

  cloudlink::testing::TempDir dir_;
  state::PosixFileSystem fs_;
  NodeKey key_;
  std::string claim_id_ = NewUuidV4();
  std::unique_ptr<SpaceDirectory> spaces_;
  std::unique_ptr<NodeRegistry> nodes_;
  std::unique_ptr<LoginApi> login_;
  absl::Time now_ = absl::FromUnixSeconds(1000000);
  absl::Status install_result_ = absl::OkStatus();
  std::vector<std::pair<std::string, std::string>> installed_;
};

TEST_F(LoginApiTest, EnvNamesEndpointsBackoffAndCapabilities) {
  HttpAnswer env = login_->Env(claim_id_);
  ASSERT_EQ(env.status, 200);
  EXPECT_EQ(env.body["encoding"], "proto");
  EXPECT_EQ(env.body["authEndpoint"], "https://127.0.0.1:1/api/v1/auth");
  EXPECT_EQ(env.body["transports"][0]["type"], "MQTTv5");
  EXPECT_EQ(env.body["transports"][0]["endpoint"], "wss://localhost:2/mqtt");
  EXPECT_EQ(env.body["backoff"]["base"], 2);
  EXPECT_EQ(env.body["backoff"]["minSeconds"], 1);
  EXPECT_EQ(env.body["backoff"]["maxSeconds"], 1024);
  EXPECT_EQ(env.body["capabilities"], json::array({"proto", "ctx"}));
}

TEST_F(LoginApiTest, CorrectResponseIssuesInstalledCredentials) {
  std::string secret = SolveChallenge();
  ASSERT_EQ(secret.size(), 32u);
  HttpAnswer answer = Answer(secret);
  ASSERT_EQ(answer.status, 201) << answer.body.dump();
  EXPECT_EQ(answer.body["clientID"], claim_id_);
  EXPECT_EQ(answer.body["username"], claim_id_);
  std::string password = answer.body["password"];
  EXPECT_GE(password.size(), 32u);
  ASSERT_EQ(installed_.size(), 1u);
  EXPECT_EQ(installed_[0].first, claim_id_);
  EXPECT_EQ(installed_[0].second, password);
  std::map<std::string, std::string> topics;
  for (const json& t : answer.body["topics"]) topics[t["name"]] = t["topic"];
  EXPECT_EQ(topics["agent-connection"],
            "/agent/#{claim_id}/outbound/v1/ConnectionUpdate");
  EXPECT_EQ(topics["inbox-cmd"], "/agent/#{claim_id}/inbound/v2/cmd");
  EXPECT_TRUE(topics.count("create-node-instance"));
  EXPECT_TRUE(topics.count("node-instance-connection"));
  EXPECT_TRUE(topics.count("node-instance-info"));
}

TEST_F(LoginApiTest, ChallengeIsSingleUse) {
  std::string secret = SolveChallenge();
  EXPECT_EQ(Answer(secret).status, 201);
  EXPECT_EQ(Answer(secret).status, 403);
  EXPECT_EQ(installed_.size(), 1u);
}

TEST_F(LoginApiTest, ChallengeExpiresAfterSixtySeconds) {
  std::string secret = SolveChallenge();
  now_ += absl::Seconds(61);
  HttpAnswer answer = Answer(secret);
  EXPECT_EQ(answer.status, 403);
  EXPECT_TRUE(answer.body.contains("errorMsgKey"));
  std::string fresh = SolveChallenge();
  now_ += absl::Seconds(59);
  EXPECT_EQ(Answer(fresh).status, 201);
}

TEST_F(LoginApiTest, WrongResponseIsRefusedAndUsesUpTheChallenge) {
  std::string secret = SolveChallenge();
  EXPECT_EQ(Answer(std::string(32, 'x')).status, 403);
  EXPECT_EQ(Answer(secret).status, 403);
  EXPECT_TRUE(installed_.empty());
}

TEST_F(LoginApiTest, UnknownClaimIdIsRefusedEverywhere) {
  std::string other = NewUuidV4();
  EXPECT_EQ(login_->Env(other).status, 403);
  EXPECT_EQ(login_->Env("not-a-uuid").status, 403);
  EXPECT_EQ(login_->Challenge(other).status, 403);
  EXPECT_EQ(login_->Password(other, "{\"response\":\"\"}").status, 403);
}

TEST_F(LoginApiTest, MalformedPasswordBodyIs400) {
  SolveChallenge();
  EXPECT_EQ(login_->Password(claim_id_, "{").status, 400);
}

TEST_F(LoginApiTest, BrokerTroubleIs503) {
  install_result_ = absl::UnavailableError("down");
  EXPECT_EQ(Answer(SolveChallenge()).status, 503);
}

}  // namespace
}  // namespace cloudlink::devcloud

// End-to-end tests of the dev cloud's link side: the real binary with its
// own mosquitto; login over HTTPS with a node's RSA key; MQTT over the
// broker's plain listener with the issued credentials (libmosquitto has no
// WebSocket client, so the WSS listener is only checked for TLS).

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "aclk/v1/agent_connection.pb.h"
#include "aclk/v1/disconnect.pb.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "server/common/uuid.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/integration/fixtures/mqtt_test_client.h"
#include "tests/testing/test_env.h"
#include "tests/tools/devcloud/dev_cloud_test_base.h"
#include "tests/tools/devcloud/node_key.h"

namespace cloudlink::devcloud {
namespace {

using devcloud_testing::NodeKey;
using integration::DevCloud;
using integration::MqttTestClient;
using nlohmann::json;

struct Credentials {
  std::string username;
  std::string password;
  std::map<std::string, std::string> topics;  // name → topic, substituted
};

class LinkTest : public devcloud_testing::DevCloudTestBase {
 protected:
  // Claims a node with `key` into Space A; returns its claim id.
  std::string Claim(const NodeKey& key) {
    std::string claim_id = NewUuidV4();
    json body = {{"node", {{"id", claim_id}, {"hostname", "link-node"}}},
                 {"token", cloud_->Env("CLAIM_TOKEN")},
                 {"rooms", json::array()},
                 {"publicKey", key.PublicPem()},
                 {"mGUID", NewUuidV4()}};
    auto res =
        cloud_->Client()->Put(("/api/v1/spaces/nodes/" + claim_id).c_str(),
                              body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 204);
    return claim_id;
  }

  // Challenge + password for a claimed node; empty username on failure.
  Credentials Login(const std::string& claim_id, const NodeKey& key) {
    Credentials creds;
    auto client = cloud_->Client();
    auto challenge =
        client->Get(("/api/v1/auth/node/" + claim_id + "/challenge").c_str());
    EXPECT_TRUE(challenge && challenge->status == 200);
    if (!challenge || challenge->status != 200) return creds;
    std::string encrypted;
    EXPECT_TRUE(absl::Base64Unescape(
        json::parse(challenge->body).value("challenge", ""), &encrypted));
    EXPECT_EQ(encrypted.size(), 256u);
    std::string secret = key.Decrypt(encrypted);
    EXPECT_EQ(secret.size(), 32u);
    json body = {{"agent_version", "test"},
                 {"response", absl::Base64Escape(secret)}};
    auto res =
        client->Post(("/api/v1/auth/node/" + claim_id + "/password").c_str(),
                     body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "");
    if (!res || res->status != 201) return creds;
    json answer = json::parse(res->body);
    creds.username = answer["username"];
    creds.password = answer["password"];
    for (const json& t : answer["topics"]) {
      std::string topic = t["topic"];
      std::string::size_type at = topic.find("#{claim_id}");
      if (at != std::string::npos) topic.replace(at, 11, claim_id);
      creds.topics[t["name"]] = topic;
    }
    return creds;
  }

  int PlainPort() const { return std::stoi(cloud_->Env("BROKER_PLAIN_PORT")); }

  // The node's state in the Space A listing.
  std::string StateOf(const std::string& claim_id) {
    auto res = cloud_->Client()->Get(
        ("/api/v1/spaces/" + cloud_->Env("SPACE_ID") + "/nodes").c_str(),
        cloud_->AdminBearer());
    if (!res || res->status != 200) return "";
    for (const json& n : json::parse(res->body)) {
      if (n["id"] == claim_id) return n["state"];
    }
    return "";
  }

  json MessagesOf(const std::string& claim_id) {
    auto res =
        cloud_->Client()->Get(("/_dev/nodes/" + claim_id + "/messages").c_str(),
                              cloud_->AdminBearer());
    if (!res || res->status != 200) return json::array();
    return json::parse(res->body);
  }

  static std::string Connection(const std::string& claim_id, bool reachable,
                                int64_t session_id,
                                aclk::v1::ConnectionUpdateSource source) {
    aclk::v1::UpdateAgentConnection update;
    update.set_claim_id(claim_id);
    update.set_reachable(reachable);
    update.set_session_id(session_id);
    update.set_update_source(source);
    auto* capability = update.add_capabilities();
    capability->set_name("proto");
    capability->set_version(1);
    capability->set_enabled(true);
    return update.SerializeAsString();
  }
};

TEST_F(LinkTest, EnvPointsAtTheAuthEndpointAndTheBroker) {
  NodeKey key;
  std::string claim_id = Claim(key);
  auto res = cloud_->Client()->Get(
      ("/api/v1/env?v=1.0&cap=proto,ctx&claim_id=" + claim_id).c_str());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json env = json::parse(res->body);
  EXPECT_EQ(env["encoding"], "proto");
  EXPECT_EQ(env["authEndpoint"], cloud_->Env("CLOUD_URL") + "/api/v1/auth");
  EXPECT_EQ(env["transports"][0]["type"], "MQTTv5");
  EXPECT_EQ(env["transports"][0]["endpoint"],
            "wss://localhost:" + cloud_->Env("BROKER_PORT") + "/mqtt");
  EXPECT_EQ(env["backoff"]["base"], 2);
  EXPECT_EQ(env["capabilities"], json::array({"proto", "ctx"}));

  auto unknown = cloud_->Client()->Get(
      ("/api/v1/env?v=1.0&cap=proto,ctx&claim_id=" + NewUuidV4()).c_str());
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 403);
  EXPECT_TRUE(json::parse(unknown->body).contains("errorMsgKey"));
}

TEST_F(LinkTest, BackoffComesFromDevcloudJson) {
  EXPECT_EQ(cloud_->Stop().value_or(-1), 0);
  std::string path = dir_.Join("devcloud.json");
  json config = json::parse(cloudlink::testing::ReadFileOrEmpty(path));
  config["backoff"] = {{"base", 3}, {"minSeconds", 0}, {"maxSeconds", 2}};
  ASSERT_TRUE(cloudlink::testing::WriteFile(path, config.dump()).ok());
  ASSERT_NO_FATAL_FAILURE(StartCloud());
  NodeKey key;
  std::string claim_id = Claim(key);
  auto res = cloud_->Client()->Get(
      ("/api/v1/env?v=1&cap=proto&claim_id=" + claim_id).c_str());
  ASSERT_TRUE(res && res->status == 200);
  EXPECT_EQ(json::parse(res->body)["backoff"],
            json({{"base", 3}, {"minSeconds", 0}, {"maxSeconds", 2}}));
}

TEST_F(LinkTest, WrongChallengeResponseIs403WithErrorBody) {
  NodeKey key;
  std::string claim_id = Claim(key);
  auto client = cloud_->Client();
  ASSERT_EQ(
      client->Get(("/api/v1/auth/node/" + claim_id + "/challenge").c_str())
          ->status,
      200);
  json body = {{"agent_version", "test"},
               {"response", absl::Base64Escape(std::string(32, 'z'))}};
  auto res =
      client->Post(("/api/v1/auth/node/" + claim_id + "/password").c_str(),
                   body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  json error = json::parse(res->body);
  EXPECT_TRUE(error.contains("errorCode"));
  EXPECT_TRUE(error.contains("errorMsgKey"));
  EXPECT_TRUE(error.contains("errorMessage"));
}

TEST_F(LinkTest, IssuedCredentialsWorkOnlyForTheNodesOwnTopics) {
  NodeKey key;
  std::string claim_id = Claim(key);
  Credentials creds = Login(claim_id, key);
  ASSERT_EQ(creds.username, claim_id);
  EXPECT_EQ(creds.topics["agent-connection"],
            "/agent/" + claim_id + "/outbound/v1/ConnectionUpdate");

  MqttTestClient node(creds.username, creds.password);
  ASSERT_EQ(node.Connect(PlainPort()), 0);
  EXPECT_EQ(node.Publish(creds.topics["agent-connection"],
                         Connection(claim_id, true, 7,
                                    aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT)),
            0);
  // Another node's topic: refused with PUBACK "not authorized".
  std::string other_topic =
      "/agent/" + NewUuidV4() + "/outbound/v1/ConnectionUpdate";
  EXPECT_EQ(node.Publish(other_topic, "x"), 0x87);

  MqttTestClient wrong(claim_id, "not-the-password");
  EXPECT_NE(wrong.Connect(PlainPort()), 0);
}

TEST_F(LinkTest, SubscriberTracksOnlineAndTheWill) {
  NodeKey key;
  std::string claim_id = Claim(key);
  EXPECT_EQ(StateOf(claim_id), "created");
  Credentials creds = Login(claim_id, key);
  std::string topic = creds.topics["agent-connection"];

  MqttTestClient node(creds.username, creds.password);
  node.SetWill(topic, Connection(claim_id, false, 42,
                                 aclk::v1::CONNECTION_UPDATE_SOURCE_LWT));
  ASSERT_EQ(node.Connect(PlainPort()), 0);
  ASSERT_EQ(
      node.Publish(topic, Connection(claim_id, true, 42,
                                     aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT)),
      0);
  EXPECT_TRUE(cloudlink::testing::WaitFor(
      [&] { return StateOf(claim_id) == "online"; }, absl::Seconds(10)));

  json messages = MessagesOf(claim_id);
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0]["topic"], topic);
  EXPECT_EQ(messages[0]["type"], "UpdateAgentConnection");
  EXPECT_EQ(messages[0]["fields"]["reachable"], true);
  EXPECT_EQ(messages[0]["fields"]["claim_id"], claim_id);
  EXPECT_EQ(messages[0]["fields"]["capabilities"][0]["name"], "proto");

  // The broker publishes the will: offline.
  node.Disconnect(/*with_will=*/true);
  EXPECT_TRUE(cloudlink::testing::WaitFor(
      [&] { return StateOf(claim_id) == "offline"; }, absl::Seconds(10)));
  messages = MessagesOf(claim_id);
  EXPECT_EQ(messages.back()["fields"]["update_source"],
            "CONNECTION_UPDATE_SOURCE_LWT");
}

TEST_F(LinkTest, DisconnectSwitchPublishesADisconnectReqToTheInbox) {
  NodeKey key;
  std::string claim_id = Claim(key);
  Credentials creds = Login(claim_id, key);
  MqttTestClient node(creds.username, creds.password);
  ASSERT_EQ(node.Connect(PlainPort()), 0);
  ASSERT_EQ(node.Subscribe(creds.topics["inbox-cmd"] + "/#"), 1);

  json request = {{"reconnectAfterSeconds", 5},
                  {"permaban", true},
                  {"errorCode", 3},
                  {"errorDescription", "go away"}};
  auto res = cloud_->Client()->Post(
      ("/_dev/nodes/" + claim_id + "/disconnect").c_str(),
      cloud_->AdminBearer(), request.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 204) << res->body;

  auto message = node.NextMessage(absl::Seconds(10));
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->topic,
            "/agent/" + claim_id + "/inbound/v2/cmd/DisconnectReq");
  EXPECT_EQ(message->user_properties["msg-type"], "DisconnectReq");
  aclk::v1::DisconnectReq decoded;
  ASSERT_TRUE(decoded.ParseFromString(message->payload));
  EXPECT_EQ(decoded.reconnect_after_seconds(), 5u);
  EXPECT_TRUE(decoded.permaban());
  EXPECT_EQ(decoded.error_code(), 3u);
  EXPECT_EQ(decoded.error_description(), "go away");

  auto unknown = cloud_->Client()->Post(
      ("/_dev/nodes/" + NewUuidV4() + "/disconnect").c_str(),
      cloud_->AdminBearer(), "{}", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(LinkTest, LoginErrorSwitchAnswersTheNextLoginCalls) {
  NodeKey key;
  std::string claim_id = Claim(key);
  json fault = {{"count", 2},
                {"status", 503},
                {"errorCode", "E1"},
                {"errorMsgKey", "ErrBusy"},
                {"errorMessage", "busy"},
                {"errorNonRetryable", true},
                {"errorRetryDelaySeconds", 30}};
  auto armed =
      cloud_->Client()->Post("/_dev/login-error", cloud_->AdminBearer(),
                             fault.dump(), "application/json");
  ASSERT_TRUE(armed);
  ASSERT_EQ(armed->status, 204) << armed->body;

  std::string env_path = "/api/v1/env?v=1&cap=proto&claim_id=" + claim_id;
  auto first = cloud_->Client()->Get(env_path.c_str());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 503);
  json body = json::parse(first->body);
  EXPECT_EQ(body["errorMsgKey"], "ErrBusy");
  EXPECT_EQ(body["errorNonRetryable"], true);
  EXPECT_EQ(body["errorRetryDelaySeconds"], 30);
  auto second = cloud_->Client()->Get(
      ("/api/v1/auth/node/" + claim_id + "/challenge").c_str());
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(cloud_->Client()->Get(env_path.c_str())->status, 200);
  // Claims are not login calls.
  EXPECT_EQ(Claim(key).size(), 36u);
}

TEST_F(LinkTest, BrokerStopAndStartKeepPortsAndCredentials) {
  NodeKey key;
  std::string claim_id = Claim(key);
  Credentials creds = Login(claim_id, key);
  auto stop = cloud_->Client()->Post("/_dev/broker/stop", cloud_->AdminBearer(),
                                     "", "application/json");
  ASSERT_TRUE(stop);
  ASSERT_EQ(stop->status, 204);
  {
    MqttTestClient node(creds.username, creds.password);
    EXPECT_NE(node.Connect(PlainPort(), absl::Seconds(2)), 0);
  }
  // While the cloud cannot see nodes (its subscriber is down with the
  // broker), a login gets a retryable 503 instead of credentials.
  NodeKey key2;
  std::string claim_id2 = Claim(key2);
  {
    auto client = cloud_->Client();
    auto challenge =
        client->Get(("/api/v1/auth/node/" + claim_id2 + "/challenge").c_str());
    ASSERT_TRUE(challenge && challenge->status == 200);
    std::string encrypted;
    ASSERT_TRUE(absl::Base64Unescape(
        json::parse(challenge->body).value("challenge", ""), &encrypted));
    json body = {{"agent_version", "test"},
                 {"response", absl::Base64Escape(key2.Decrypt(encrypted))}};
    auto refused =
        client->Post(("/api/v1/auth/node/" + claim_id2 + "/password").c_str(),
                     body.dump(), "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 503) << refused->body;
    EXPECT_NE(json::parse(refused->body).value("errorNonRetryable", false),
              true);
  }

  // broker/start answers once the cloud's subscriber listens again.
  auto start = cloud_->Client()->Post(
      "/_dev/broker/start", cloud_->AdminBearer(), "", "application/json");
  ASSERT_TRUE(start);
  ASSERT_EQ(start->status, 204);
  Credentials creds2 = Login(claim_id2, key2);
  ASSERT_EQ(creds2.username, claim_id2);
  MqttTestClient node(creds.username, creds.password);
  EXPECT_EQ(node.Connect(PlainPort()), 0);
  MqttTestClient node2(creds2.username, creds2.password);
  EXPECT_EQ(node2.Connect(PlainPort()), 0);

  // The subscriber reconnected by itself and tracks state again.
  EXPECT_TRUE(cloudlink::testing::WaitFor(
      [&] {
        node.Publish(creds.topics["agent-connection"],
                     Connection(claim_id, true, 1,
                                aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT),
                     absl::Seconds(2));
        return StateOf(claim_id) == "online";
      },
      absl::Seconds(15)));
}

TEST_F(LinkTest, StoppingTheDevCloudStopsItsBroker) {
  int plain_port = PlainPort();
  EXPECT_EQ(cloud_->Stop().value_or(-1), 0);
  MqttTestClient probe("x", "y");
  EXPECT_EQ(probe.Connect(plain_port, absl::Seconds(2)), -1);
}

}  // namespace
}  // namespace cloudlink::devcloud

// CloudLink with its seams faked: the cloud's HTTPS side (FakeCloudHttp) and
// the transport (FakeWssConnector, on real time here, since the link thread
// waits for commands in real time).

#include "server/link/cloud_link.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/mutex.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "tests/server/cloud/fake_cloud_http.h"
#include "tests/server/link/fake_wss_connector.h"
#include "tests/testing/test_env.h"

namespace cloudlink::link {
namespace {

using ::cloudlink::testing::ConnackBytes;
using ::cloudlink::testing::FakeCloudHttp;
using ::cloudlink::testing::FakeWssConnector;
using ::cloudlink::testing::PubackBytes;
using ::cloudlink::testing::ScriptedConnection;
using ::cloudlink::testing::SubackBytes;
using Type = mqtt::MqttPacketType;

constexpr char kClaimA[] = "aaaaaaaa-1c1f-4e39-9d3a-5d7e6b7c8d9e";
constexpr char kClaimB[] = "bbbbbbbb-1c1f-4e39-9d3a-5d7e6b7c8d9e";

LinkConfig ConfigFor(const std::string& claim_id) {
  LinkConfig config;
  config.url = "https://cloud_.test";
  config.claim_id = claim_id;
  config.machine_guid = "5a6b7c8d-0000-4000-8000-000000000001";
  config.hostname = "node-1";
  config.proxy = "none";
  config.private_key_pem = FakeCloudHttp::NodeKeyPem();
  return config;
}

// The broker side of one connection until it is online as `claim_id`:
// CONNECT, SUBSCRIBE, the hello and CreateNodeInstance, all acknowledged.
ScriptedConnection& ScriptOnline(ScriptedConnection& c,
                                 const std::string& claim_id) {
  return c.Open()
      .Expect(Type::kConnect,
              [claim_id](const mqtt::MqttPacket& p) {
                return absl::get<mqtt::MqttConnect>(p).client_id == claim_id;
              })
      .Read(ConnackBytes())
      .Expect(Type::kSubscribe)
      .Expect(Type::kPublish)  // hello
      .Expect(Type::kPublish)  // CreateNodeInstance
      .Read(SubackBytes(1))
      .Read(PubackBytes(2))
      .Read(PubackBytes(3));
}

// A connection that comes online as `claim_id`, then says goodbye when the
// link leaves.
void ScriptOnlineThenGoodbye(ScriptedConnection& c,
                             const std::string& claim_id) {
  ScriptOnline(c, claim_id)
      .Expect(Type::kPublish)  // goodbye
      .Read(PubackBytes(4))
      .Expect(Type::kDisconnect);
}

// The link under test on the fake cloud and transport (real time). Members
// the link uses are declared before it, so it is destroyed first.
class CloudLinkTest : public ::testing::Test {
 protected:
  CloudLink& StartLink(
      CloudLink::StatusCallback on_status = [](const LinkStatus&) {},
      publish::Publisher* publisher = nullptr) {
    link_ = std::make_unique<CloudLink>(&cloud_, &connector_, RealClock(),
                                        std::move(on_status), publisher,
                                        takeover_params_);
    return *link_;
  }

  // The takeover guard's parameters for the next StartLink.
  TakeoverGuard::Params takeover_params_;

  FakeCloudHttp cloud_;
  FakeWssConnector connector_{nullptr};
  publish::PublishQueue queue_{publish::QueueOptions{}};
  publish::Publisher publisher_{&queue_, nullptr};
  std::unique_ptr<CloudLink> link_;
};

// A Start() posted while the link is inside the login call of the claim it
// replaces: the old claim never connects; the first connection is the new
// claim's. (Before, the old claim's connection came up and held on, since
// nothing woke it.)
TEST_F(CloudLinkTest, StartDuringLoginReplacesTheClaimBeforeAnyConnection) {
  ScriptedConnection& first = connector_.Script();
  ScriptOnlineThenGoodbye(first, kClaimB);
  Mutex mu;
  LinkStatus last;
  CloudLink& link = StartLink([&](const LinkStatus& s) {
    MutexLock lock(&mu);
    last = s;
  });

  cloud_.HoldNext("/password");
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(cloud_.WaitHeld(absl::Seconds(10)));
  link.Start(ConfigFor(kClaimB));  // posted while A's login is under way
  cloud_.Release();

  ASSERT_TRUE(
      testing::WaitFor([&] { return link.status().online; }, absl::Seconds(10)))
      << link.status().reason;
  EXPECT_EQ(link.status().claim_id, kClaimB);
  link.Stop();
  EXPECT_FALSE(link.status().online);
  EXPECT_EQ(connector_.connect_calls(), 1u);
  EXPECT_TRUE(first.script_done());
  // A's login finished (challenge, password) but no connection followed it.
  int passwords = 0;
  for (const std::string& url : cloud_.urls()) {
    passwords += absl::EndsWith(url, "/password");
  }
  EXPECT_EQ(passwords, 2);
  link_.reset();  // before `mu` and `last`, which its callback uses
}

// Stop() while online says goodbye and returns once the link is down.
TEST_F(CloudLinkTest, StopLeavesWithGoodbyeAndReturns) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnlineThenGoodbye(c, kClaimA);
  CloudLink& link = StartLink();
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(
      testing::WaitFor([&] { return link.status().online; }, absl::Seconds(10)))
      << link.status().reason;
  const MonotonicTime start = RealClock()->MonotonicNow();
  link.Stop();
  EXPECT_LT(RealClock()->MonotonicNow() - start, absl::Seconds(3));
  EXPECT_TRUE(c.script_done());
  EXPECT_FALSE(link.status().active);
}

std::string DisconnectBytes(uint8_t reason_code) {
  mqtt::MqttDisconnect disconnect;
  disconnect.reason_code = reason_code;
  std::string out;
  EXPECT_TRUE(mqtt::EncodeDisconnect(disconnect, &out).ok());
  return out;
}

// A connection that comes online as `claim_id` and is then ended by the
// broker with DISCONNECT `reason_code`.
void ScriptOnlineThenBrokerDisconnect(ScriptedConnection& c,
                                      const std::string& claim_id,
                                      uint8_t reason_code) {
  ScriptOnline(c, claim_id).Read(DisconnectBytes(reason_code));
}

// A clone: the broker ends the session with 0x8E (session taken over) three
// times in a row. The link reports SESSION_TAKEN_OVER with the fix and waits
// at least 15 s before the next attempt instead of taking the session back.
TEST_F(CloudLinkTest, RepeatedSessionTakeoverIsReportedAndBackedOff) {
  for (int i = 0; i < 3; ++i) {
    ScriptOnlineThenBrokerDisconnect(connector_.Script(), kClaimA,
                                     mqtt::mqtt_reason::kSessionTakenOver);
  }
  CloudLink& link = StartLink();
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return link.status().reason_name == "SESSION_TAKEN_OVER"; },
      absl::Seconds(20)))
      << link.status().reason;
  const LinkStatus status = link.status();
  EXPECT_FALSE(status.online);
  EXPECT_EQ(status.connections, 3u);
  EXPECT_TRUE(absl::StrContains(status.reason, "another node uses this claim"))
      << status.reason;
  EXPECT_TRUE(absl::StrContains(status.reason, "reclaim --new-identity"))
      << status.reason;
  EXPECT_GE(status.last_backoff, absl::Seconds(15));
  EXPECT_GE(status.next_attempt - absl::Now(), absl::Seconds(10));
  EXPECT_EQ(connector_.connect_calls(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(connector_.connection(i).script_done());
}

// A broker that closes the taken-over connection without the 0x8E
// (mosquitto 2.0 over WebSocket): three closes soon after the CONNACK are
// reported as a probable clone and backed off.
TEST_F(CloudLinkTest, RepeatedAbruptClosesAfterConnectAreReportedAsTakeover) {
  for (int i = 0; i < 3; ++i) {
    connector_.Script()
        .Open()
        .Expect(Type::kConnect)
        .Read(ConnackBytes())
        .Expect(Type::kSubscribe)
        .Expect(Type::kPublish)  // hello
        .Expect(Type::kPublish)  // CreateNodeInstance
        .Read(SubackBytes(1))
        .Read(PubackBytes(2))
        .Read(PubackBytes(3))
        .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                     "the connection was closed or reset"));
  }
  takeover_params_.min_delay = absl::Seconds(20);
  CloudLink& link = StartLink();
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return link.status().reason_name == "SESSION_TAKEN_OVER"; },
      absl::Seconds(20)))
      << link.status().reason;
  const LinkStatus status = link.status();
  EXPECT_EQ(status.connections, 3u);
  EXPECT_TRUE(
      absl::StrContains(status.reason, "probably another node uses this claim"))
      << status.reason;
  EXPECT_TRUE(absl::StrContains(status.reason, "no reason given"))
      << status.reason;
  EXPECT_GE(status.last_backoff, absl::Seconds(20));
  EXPECT_EQ(connector_.connect_calls(), 3u);
}

// One takeover (our own reconnect racing its old session, say) is just a
// server disconnect, retried on the usual backoff.
TEST_F(CloudLinkTest, ASingleTakeoverIsAnOrdinaryDisconnect) {
  ScriptOnlineThenBrokerDisconnect(connector_.Script(), kClaimA,
                                   mqtt::mqtt_reason::kSessionTakenOver);
  ScriptOnlineThenGoodbye(connector_.Script(), kClaimA);
  CloudLink& link = StartLink();
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return link.status().connections == 2 && link.status().online; },
      absl::Seconds(20)))
      << link.status().reason;
  EXPECT_LT(link.status().last_backoff, absl::Seconds(15));
  link.Stop();
}

// A Start with another claim id (a Reclaim) fails the messages the old
// claim left queued with ABORTED RECLAIMED before the new claim connects.
TEST_F(CloudLinkTest, StartForAnotherClaimFailsTheOldClaimsMessages) {
  // No scripts: connects fail.
  Mutex mu;
  std::vector<absl::Status> outcomes;
  CloudLink& link = StartLink([](const LinkStatus&) {}, &publisher_);
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return link.status().claim_id == kClaimA; }, absl::Seconds(10)));
  for (int i = 0; i < 2; ++i) {
    publish::PublishArgs args;
    args.topic = "agent-connection";  // a name of the fake login's map
    args.payload = "old";
    ASSERT_TRUE(publisher_
                    .Publish(std::move(args),
                             [&](const absl::Status& s) {
                               MutexLock lock(&mu);
                               outcomes.push_back(s);
                             })
                    .ok());
  }
  link.Start(ConfigFor(kClaimB));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        MutexLock lock(&mu);
        return outcomes.size() == 2;
      },
      absl::Seconds(10)));
  {
    MutexLock lock(&mu);
    for (const absl::Status& s : outcomes) {
      EXPECT_TRUE(absl::IsAborted(s)) << s;
      EXPECT_EQ(ReasonOf(s), "RECLAIMED") << s;
    }
  }
  EXPECT_TRUE(queue_.empty());
  link_.reset();  // before `mu` and `outcomes`
}

}  // namespace
}  // namespace cloudlink::link

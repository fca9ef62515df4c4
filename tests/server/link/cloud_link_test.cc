// CloudLink with its seams faked: the cloud's HTTPS side (FakeCloudHttp) and
// the transport (FakeWssConnector, on real time here, since the link thread
// waits for commands in real time).

#include "server/link/cloud_link.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
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
  config.url = "https://cloud.test";
  config.claim_id = claim_id;
  config.machine_guid = "5a6b7c8d-0000-4000-8000-000000000001";
  config.hostname = "node-1";
  config.proxy = "none";
  config.private_key_pem = FakeCloudHttp::NodeKeyPem();
  return config;
}

// The broker side of one connection that comes online as `claim_id`, then
// says goodbye when the link leaves.
void ScriptOnlineThenGoodbye(ScriptedConnection& c,
                             const std::string& claim_id) {
  c.Open()
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
      .Read(PubackBytes(3))
      .Expect(Type::kPublish)  // goodbye
      .Read(PubackBytes(4))
      .Expect(Type::kDisconnect);
}

// A Start() posted while the link is inside the login call of the claim it
// replaces: the old claim never connects; the first connection is the new
// claim's. (Before, the old claim's connection came up and held on, since
// nothing woke it.)
TEST(CloudLinkTest, StartDuringLoginReplacesTheClaimBeforeAnyConnection) {
  FakeCloudHttp cloud;
  FakeWssConnector connector(nullptr);
  ScriptedConnection& first = connector.Script();
  ScriptOnlineThenGoodbye(first, kClaimB);
  Mutex mu;
  LinkStatus last;
  CloudLink link(&cloud, &connector, RealClock(), [&](const LinkStatus& s) {
    MutexLock lock(&mu);
    last = s;
  });

  cloud.HoldNext("/password");
  link.Start(ConfigFor(kClaimA));
  ASSERT_TRUE(cloud.WaitHeld(absl::Seconds(10)));
  link.Start(ConfigFor(kClaimB));  // posted while A's login is under way
  cloud.Release();

  ASSERT_TRUE(
      testing::WaitFor([&] { return link.status().online; }, absl::Seconds(10)))
      << link.status().reason;
  EXPECT_EQ(link.status().claim_id, kClaimB);
  link.Stop();
  EXPECT_FALSE(link.status().online);
  EXPECT_EQ(connector.connect_calls(), 1u);
  EXPECT_TRUE(first.script_done());
  // A's login finished (challenge, password) but no connection followed it.
  int passwords = 0;
  for (const std::string& url : cloud.urls()) {
    passwords += absl::EndsWith(url, "/password");
  }
  EXPECT_EQ(passwords, 2);
}

// Stop() while online says goodbye and returns once the link is down.
TEST(CloudLinkTest, StopLeavesWithGoodbyeAndReturns) {
  FakeCloudHttp cloud;
  FakeWssConnector connector(nullptr);
  ScriptedConnection& c = connector.Script();
  ScriptOnlineThenGoodbye(c, kClaimA);
  CloudLink link(&cloud, &connector, RealClock(), [](const LinkStatus&) {});
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

}  // namespace
}  // namespace cloudlink::link

// MqttSession: one session, one connection.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/variant.h"
#include "server/common/error.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/mqtt/mqtt_session.h"
#include "tests/server/mqtt/mqtt_test_broker.h"

namespace cloudlink::mqtt {
namespace {

using Type = SessionEvent::Type;

// A session serves one connection: a second Begin() is refused and writes
// nothing, so no message of the first connection is ever resent (with or
// without DUP) by the session; carrying unacknowledged messages to a new
// session is the owner's job (link/publish_pump.h).
TEST(MqttSessionTest, SecondBeginIsRefusedAndWritesNothing) {
  Broker broker;
  broker.Connect();
  broker.Publish("t", "m1", 1);
  ASSERT_EQ(Publishes(broker.Written()).size(), 1u);
  std::string out;
  absl::Status again = broker.session().Begin(broker.now(), &out);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(broker.session().connected());
  EXPECT_EQ(broker.session().in_flight(), 1u);
}

// Nothing a session writes carries DUP, also for messages queued behind a
// full window.
TEST(MqttSessionTest, NothingIsSentWithDup) {
  Broker broker;
  MqttConnack connack = Connack();
  connack.properties.receive_maximum = 2;
  broker.Connect(connack);
  for (int i = 0; i < 4; ++i) broker.Publish("t", absl::StrCat("m", i), 1);
  std::vector<MqttPublish> sent = Publishes(broker.Written());
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  ASSERT_TRUE(broker.Send(Puback(sent[1].packet_id)).ok());
  std::vector<MqttPublish> more = Publishes(broker.Written());
  ASSERT_EQ(more.size(), 2u);
  for (const MqttPublish& p : sent) EXPECT_FALSE(p.dup);
  for (const MqttPublish& p : more) EXPECT_FALSE(p.dup);
  EXPECT_EQ(more[0].payload, "m2");
}

}  // namespace
}  // namespace cloudlink::mqtt

// MqttSession: packet identifiers.

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

TEST(MqttSessionTest, SubscribePacketIdIsNotReusedBeforeSuback) {
  Broker broker;
  std::vector<MqttPacket> after = broker.Connect();
  ASSERT_FALSE(after.empty());
  const auto* subscribe = absl::get_if<MqttSubscribe>(&after[0]);
  ASSERT_NE(subscribe, nullptr);
  const uint16_t subscribe_id = subscribe->packet_id;
  // Publish and acknowledge enough messages for the ids to wrap around twice.
  for (int i = 0; i < 140000; ++i) {
    broker.Publish("t", "x", 1);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_NE(sent[0].packet_id, subscribe_id) << "at message " << i;
    ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  }
  // After the SUBACK the id is free again.
  MqttSuback suback;
  suback.packet_id = subscribe_id;
  suback.reason_codes = {1};
  ASSERT_TRUE(broker.Send(suback).ok());
  bool reused = false;
  for (int i = 0; i < 70000 && !reused; ++i) {
    broker.Publish("t", "x", 1);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    reused = sent[0].packet_id == subscribe_id;
    ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
  }
  EXPECT_TRUE(reused);
}

}  // namespace
}  // namespace cloudlink::mqtt

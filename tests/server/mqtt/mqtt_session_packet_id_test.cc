// MqttSession: packet identifiers.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <utility>
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

// Runs `body` on a thread of its own and waits at most `limit` for it. A
// session spinning in a loop cannot be stopped, so running over ends the
// test process with a message saying so.
void RunWithin(absl::Duration limit, const std::function<void()>& body) {
  std::packaged_task<void()> task(body);
  std::future<void> done = task.get_future();
  std::thread thread(std::move(task));
  if (done.wait_for(absl::ToChronoMilliseconds(limit)) !=
      std::future_status::ready) {
    std::fprintf(stderr, "FATAL: the session did not finish within %s\n",
                 absl::FormatDuration(limit).c_str());
    std::_Exit(1);
  }
  thread.join();
}

// A Broker whose CONNACK grants `receive_maximum` and whose SUBSCRIBE is
// left unanswered; sets `*subscribe_id` to the SUBSCRIBE's packet id.
void ConnectWithSubscribeOutstanding(Broker& broker, uint16_t receive_maximum,
                                     uint16_t* subscribe_id) {
  MqttConnack connack = Connack();
  connack.properties.receive_maximum = receive_maximum;
  std::vector<MqttPacket> after = broker.Connect(connack);
  ASSERT_EQ(after.size(), 1u);
  *subscribe_id = absl::get<MqttSubscribe>(after[0]).packet_id;
  broker.session().TakeEvents();
}

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

TEST(MqttSessionTest, PacketIdsNeverRunOutWhileTheSubscribeIsOutstanding) {
  RunWithin(absl::Seconds(120), [] {
    Broker broker;
    uint16_t subscribe_id = 0;
    ConnectWithSubscribeOutstanding(broker, 65535, &subscribe_id);
    EXPECT_EQ(broker.session().send_window(), 65534u);

    constexpr int kMessages = 65535 + 1000;
    for (int i = 0; i < kMessages; ++i) broker.Publish("t", absl::StrCat(i), 1);
    std::deque<uint16_t> unacked;  // in the order written
    std::set<uint16_t> in_flight;
    std::vector<int> times_sent(kMessages, 0);
    auto take_written = [&] {
      for (const MqttPublish& p : Publishes(broker.Written())) {
        EXPECT_NE(p.packet_id, subscribe_id);
        EXPECT_TRUE(in_flight.insert(p.packet_id).second)
            << "packet id " << p.packet_id << " is already in flight";
        unacked.push_back(p.packet_id);
        ++times_sent[std::stoi(p.payload)];
      }
    };
    take_written();
    EXPECT_EQ(in_flight.size(), 65534u);
    EXPECT_EQ(broker.session().in_flight(), 65534u);
    EXPECT_EQ(broker.session().queued(), 1001u);

    // The acks come back in order; each lets one waiting message out.
    for (int round = 0; round < kMessages && !unacked.empty(); ++round) {
      const uint16_t id = unacked.front();
      unacked.pop_front();
      in_flight.erase(id);
      ASSERT_TRUE(broker.Send(Puback(id)).ok());
      take_written();
    }
    EXPECT_TRUE(unacked.empty());
    EXPECT_EQ(broker.session().in_flight(), 0u);
    EXPECT_EQ(broker.session().queued(), 0u);
    int sent_once = 0;
    for (int times : times_sent) sent_once += times == 1 ? 1 : 0;
    EXPECT_EQ(sent_once, kMessages);
    EXPECT_EQ(broker.session().counters().acked, uint64_t{kMessages});
  });
}

TEST(MqttSessionTest, SubackFreesItsPacketIdForAWaitingMessage) {
  RunWithin(absl::Seconds(120), [] {
    Broker broker;
    uint16_t subscribe_id = 0;
    ConnectWithSubscribeOutstanding(broker, 65535, &subscribe_id);
    for (int i = 0; i < 65535; ++i) broker.Publish("t", "x", 1);
    EXPECT_EQ(Publishes(broker.Written()).size(), 65534u);
    EXPECT_EQ(broker.session().queued(), 1u);

    MqttSuback suback;
    suback.packet_id = subscribe_id;
    suback.reason_codes = {mqtt_reason::kGrantedQos1};
    ASSERT_TRUE(broker.Send(suback).ok());
    EXPECT_EQ(broker.session().send_window(), 65535u);
    std::vector<MqttPublish> sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].packet_id, subscribe_id) << "the only id left";
    EXPECT_EQ(broker.session().in_flight(), 65535u);
    EXPECT_EQ(broker.session().queued(), 0u);

    // Every id is in flight now: the next message waits for a PUBACK.
    broker.Publish("t", "x", 1);
    EXPECT_TRUE(broker.Written().empty());
    EXPECT_EQ(broker.session().queued(), 1u);
    ASSERT_TRUE(broker.Send(Puback(sent[0].packet_id)).ok());
    sent = Publishes(broker.Written());
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].packet_id, subscribe_id);
  });
}

TEST(MqttSessionTest, SendWindowIsTheReceiveMaximumWithoutASubscribe) {
  SessionConfig config = TestConfig();
  config.subscribe_filter = "";
  Broker broker(config);
  MqttConnack connack = Connack();
  connack.properties.receive_maximum = 65535;
  broker.Connect(connack);
  EXPECT_EQ(broker.session().send_window(), 65535u);
  connack.properties.receive_maximum = 7;
  broker.Connect(connack);
  EXPECT_EQ(broker.session().send_window(), 7u);
}

}  // namespace
}  // namespace cloudlink::mqtt

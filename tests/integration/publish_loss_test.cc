// Loss tests of the publish path against the real dev
// cloud, cloudlinkd and an independent libmosquitto subscriber on the
// broker's plain listener (the dev cloud's broker admin):
//   (a) 100,000 AT_LEAST_ONCE messages while the broker is stopped and
//       started twice: every sequence number arrives at least once;
//   (b) DURABLE messages, cloudlinkd killed with SIGKILL mid-stream and
//       restarted: every message acked to the producer arrives;
//   (c) the spool's last record corrupted while cloudlinkd is down: the
//       daemon reports it and delivers every intact message.

#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <mosquitto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/mutex.h"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/integration/publish_clients.h"
#include "tests/integration/publish_test_base.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using json = nlohmann::json;

class PublishLossTest : public PublishTestBase {};

TEST_F(PublishLossTest, AtLeastOnceSurvivesTwoBrokerRestarts) {
  constexpr size_t kMessages = 100000;
  constexpr size_t kOutstanding = 20000;  // producer runs ahead of acks
  auto subscriber = StartSubscriber("loss-a", kMessages);
  ASSERT_NE(subscriber, nullptr);
  PublishStream stream(daemon_->socket_path(), "loss-a");
  std::atomic<size_t> sent{0};
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    for (size_t seq = 0; seq < kMessages && !stop; ++seq) {
      while (seq >= stream.acked() + stream.errors() + kOutstanding && !stop) {
        absl::SleepFor(absl::Milliseconds(1));  // pacing, not synchronization
      }
      if (!stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE)) break;
      sent = seq + 1;
    }
  });
  const absl::Time deadline = absl::Now() + absl::Minutes(2);
  for (size_t bounce_at : {kMessages / 5, kMessages * 3 / 5}) {
    ASSERT_TRUE(testing::WaitFor([&] { return stream.acked() >= bounce_at; },
                                 deadline - absl::Now()))
        << "acked " << stream.acked() << "\n"
        << daemon_->Stderr();
    BounceBroker(subscriber.get());
    if (HasFatalFailure()) break;
  }
  const bool all_acked = testing::WaitFor(
      [&] { return stream.acked() + stream.errors() >= kMessages; },
      std::max(absl::ZeroDuration(), deadline - absl::Now()));
  stop = true;
  producer.join();
  EXPECT_TRUE(all_acked) << "sent " << sent << ", acked " << stream.acked();
  EXPECT_EQ(stream.errors(), 0u) << stream.first_error();
  EXPECT_TRUE(stream.Finish().ok());
  EXPECT_TRUE(testing::WaitFor(
      [&] { return subscriber->distinct() == kMessages; }, absl::Seconds(30)))
      << "received " << subscriber->distinct() << " distinct of " << kMessages;
  absl::StatusOr<json> state = daemon_->State();
  ASSERT_TRUE(state.ok());
  const json& publish = (*state)["publish"];
  EXPECT_GE(std::stoull(publish.value("acked", "0")), kMessages);
}

TEST_F(PublishLossTest, DurableMessagesSurviveKillNine) {
  constexpr size_t kMessages = 20000;
  auto subscriber = StartSubscriber("loss-b", kMessages);
  ASSERT_NE(subscriber, nullptr);
  std::vector<size_t> acked;
  {
    PublishStream stream(daemon_->socket_path(), "loss-b");
    std::atomic<bool> stop{false};
    std::thread producer([&] {
      for (size_t seq = 0; seq < kMessages && !stop; ++seq) {
        if (!stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_DURABLE)) break;
      }
    });
    ASSERT_TRUE(testing::WaitFor([&] { return stream.acked() >= 3000; },
                                 absl::Seconds(60)))
        << daemon_->Stderr();
    ASSERT_TRUE(daemon_->Kill().ok());
    stop = true;
    producer.join();
    ASSERT_TRUE(testing::WaitFor([&] { return stream.reader_done(); },
                                 absl::Seconds(30)));
    acked = stream.acked_ids();
    EXPECT_EQ(stream.errors(), 0u) << stream.first_error();
  }
  ASSERT_GE(acked.size(), 3000u);
  ASSERT_TRUE(daemon_->Restart(options_).ok());
  ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
  std::vector<size_t> missing;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        missing = subscriber->Missing(acked);
        return missing.empty();
      },
      absl::Seconds(90)))
      << missing.size() << " of " << acked.size()
      << " acked messages never arrived, first " << missing[0] << "\n"
      << daemon_->AllStderr();
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        absl::StatusOr<json> state = daemon_->State();
        return state.ok() && (*state)["publish"].value("spooled", "0") == "0";
      },
      absl::Seconds(60)));
}

TEST_F(PublishLossTest, CorruptSpoolTailIsReportedAndIntactMessagesDelivered) {
  constexpr size_t kMessages = 200;
  auto subscriber = StartSubscriber("loss-c", kMessages);
  ASSERT_NE(subscriber, nullptr);
  // The broker is down: every message stays in the spool, unacknowledged.
  ASSERT_TRUE(cloud_->StopBroker().ok());
  {
    PublishStream stream(daemon_->socket_path(), "loss-c");
    for (size_t seq = 0; seq < kMessages; ++seq) {
      ASSERT_TRUE(stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_DURABLE));
    }
    EXPECT_TRUE(stream.Finish().ok());
    EXPECT_EQ(stream.acked(), kMessages);
  }
  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string segment = LastSegment();
  ASSERT_FALSE(segment.empty());
  {
    // Flip a byte inside the last record's payload.
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(c ^ 0x20));
  }
  const int subscribed = subscriber->subscriptions();
  ASSERT_TRUE(cloud_->StartBroker().ok());
  ASSERT_TRUE(
      subscriber->WaitSubscribedMoreThan(subscribed, absl::Seconds(30)));
  ASSERT_TRUE(daemon_->Restart(options_).ok());
  ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
  std::vector<size_t> intact;
  for (size_t seq = 0; seq + 1 < kMessages; ++seq) intact.push_back(seq);
  std::vector<size_t> missing;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        missing = subscriber->Missing(intact);
        return missing.empty();
      },
      absl::Seconds(60)))
      << missing.size() << " intact messages never arrived";
  EXPECT_FALSE(subscriber->Seen(kMessages - 1));  // the corrupt one
  const std::string log = daemon_->Stderr();
  EXPECT_NE(log.find("SPOOL: "), std::string::npos) << log;
  EXPECT_NE(log.find("CRC does not match"), std::string::npos) << log;
  absl::StatusOr<json> state = daemon_->State();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)["publish"].value("spool_corrupt", "0"), "1")
      << state->dump();
}

}  // namespace
}  // namespace cloudlink::integration

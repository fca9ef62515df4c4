// The producer library (client/producer.h) against the real daemon and dev
// cloud, over both ways in (the publish socket and the Publish RPC):
// batches flow, every message gets exactly one ack, the window bounds what
// is outstanding, and an independent subscriber sees them all.

#include "client/producer.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/mutex.h"
#include "tests/integration/publish_test_base.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using client::Producer;
using client::ProducerAck;
using client::ProducerOptions;

enum class Way { kSocket, kGrpc };

class ProducerTest : public PublishTestBase,
                     public ::testing::WithParamInterface<Way> {
 protected:
  std::string PublishSocket() const {
    const std::string api = daemon_->socket_path();
    return api.substr(0, api.rfind('/')) + "/publish.sock";
  }
  // A producer the way the test runs (`api_socket`: the daemon's API
  // socket, or another path for a daemon that is not there).
  std::unique_ptr<Producer> Open(
      ProducerOptions options,
      std::function<void(const ProducerAck&)> on_ack = nullptr,
      std::string api_socket = "") {
    if (api_socket.empty()) api_socket = daemon_->socket_path();
    if (GetParam() == Way::kSocket) {
      const std::string publish =
          api_socket == daemon_->socket_path() ? PublishSocket() : api_socket;
      return Producer::OpenSocket(publish, options, std::move(on_ack));
    }
    return Producer::Open(
        grpc::CreateChannel("unix:" + api_socket,
                            grpc::InsecureChannelCredentials()),
        options, std::move(on_ack));
  }
};

TEST_P(ProducerTest, EveryMessageIsAckedOnceAndArrives) {
  constexpr size_t kMessages = 3000;
  auto subscriber = StartSubscriber("producer", kMessages);
  ASSERT_NE(subscriber, nullptr);
  ProducerOptions options;
  options.window = 256;
  options.stream_timeout = absl::Seconds(60);
  Mutex mu;
  std::map<uint64_t, int> acks;  // id → count
  size_t max_outstanding = 0;
  std::unique_ptr<Producer> producer =
      Open(options, [&](const ProducerAck& ack) {
        EXPECT_TRUE(ack.status.ok()) << ack.id << " " << ack.status;
        MutexLock lock(&mu);
        ++acks[ack.id];
      });
  for (size_t i = 0; i < kMessages; ++i) {
    absl::StatusOr<uint64_t> id = producer->Publish(
        "node-instance-info", absl::StrCat("producer:", i),
        i % 3 == 0 ? cloudlink::v1::DELIVERY_LEVEL_AT_MOST_ONCE
                   : cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE,
        absl::Seconds(30));
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(*id, i + 1);
    max_outstanding = std::max(max_outstanding, producer->outstanding());
  }
  EXPECT_LE(max_outstanding, options.window);
  EXPECT_TRUE(producer->Close(absl::Seconds(30)).ok());
  {
    MutexLock lock(&mu);
    EXPECT_EQ(acks.size(), kMessages);
    for (const auto& [id, count] : acks) EXPECT_EQ(count, 1) << id;
  }
  EXPECT_TRUE(testing::WaitFor(
      [&] { return subscriber->distinct() == kMessages; }, absl::Seconds(30)))
      << subscriber->distinct();
}

TEST_P(ProducerTest, FailuresComeBackAsAcksWithTheirReason) {
  std::unique_ptr<Producer> producer = Open(ProducerOptions());
  absl::StatusOr<uint64_t> good =
      producer->Publish("node-instance-info", "producer:ok");
  absl::StatusOr<uint64_t> bad = producer->Publish("no-such-topic", "x");
  ASSERT_TRUE(good.ok() && bad.ok());
  EXPECT_TRUE(producer->Close(absl::Seconds(30)).ok());
  std::map<uint64_t, absl::Status> by_id;
  for (const ProducerAck& ack : producer->TakeAcks())
    by_id[ack.id] = ack.status;
  ASSERT_EQ(by_id.size(), 2u);
  EXPECT_TRUE(by_id[*good].ok()) << by_id[*good];
  EXPECT_EQ(by_id[*bad].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(by_id[*bad].message(), "TOPIC_UNKNOWN"))
      << by_id[*bad];
  EXPECT_EQ(producer->Publish("node-instance-info", "late").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(ProducerTest, ADaemonThatIsGoneFailsTheOutstandingMessages) {
  ProducerOptions options;
  options.stream_timeout = absl::Seconds(30);
  std::unique_ptr<Producer> producer =
      Open(options, nullptr, tmp_.Join("nobody.sock"));
  // The stream may already have failed when Publish runs (it then says
  // so), or fail after (the message is then acked with the error).
  absl::StatusOr<uint64_t> id = producer->Publish("node-instance-info", "x");
  EXPECT_EQ(producer->Close(absl::Seconds(30)).code(),
            absl::StatusCode::kUnavailable);
  std::vector<ProducerAck> acks = producer->TakeAcks();
  if (!id.ok()) {
    EXPECT_EQ(id.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(acks.empty());
    return;
  }
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].id, *id);
  EXPECT_EQ(acks[0].status.code(), absl::StatusCode::kUnavailable);
}

INSTANTIATE_TEST_SUITE_P(Ways, ProducerTest,
                         ::testing::Values(Way::kSocket, Way::kGrpc),
                         [](const ::testing::TestParamInfo<Way>& info) {
                           return info.param == Way::kSocket ? "Socket"
                                                             : "Grpc";
                         });

}  // namespace
}  // namespace cloudlink::integration

// The publish socket against the real daemon and dev cloud, with raw
// clients that do what the producer library never would: speak another
// protocol, never read their acks, hold the stream across a SIGHUP and a
// stop. Each leaves the daemon serving the next producer. And while the
// link is online, the link thread serves the socket.

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/producer.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gtest/gtest.h"
#include "server/publish_socket/frame.h"
#include "tests/integration/publish_test_base.h"
#include "tests/server/publish_socket/raw_producer.h"
#include "tests/testing/test_env.h"
#include "tests/testing/thread_switches.h"

namespace cloudlink::integration {
namespace {

using client::Producer;
using client::ProducerAck;
using client::ProducerOptions;
using cloudlink::v1::PublishRequest;
using cloudlink::v1::PublishSocketReply;

using publish_socket::RawProducer;

PublishRequest Single(uint64_t id, const std::string& payload) {
  PublishRequest request;
  request.set_id(id);
  request.set_topic("node-instance-info");
  request.set_payload(payload);
  request.set_level(cloudlink::v1::DELIVERY_LEVEL_AT_MOST_ONCE);
  return request;
}

class PublishSocketTest : public PublishTestBase {
 protected:
  std::string PublishSocket() const {
    const std::string api = daemon_->socket_path();
    return api.substr(0, api.rfind('/')) + "/publish.sock";
  }

  // A producer publishes `count` messages and each is acked OK within
  // `timeout`.
  void ExpectAProducerIsServed(int count, absl::Duration timeout) {
    ProducerOptions options;
    options.stream_timeout = timeout;
    std::unique_ptr<Producer> producer =
        Producer::OpenSocket(PublishSocket(), options);
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<uint64_t> id = producer->Publish(
          "node-instance-info", absl::StrCat("served:", i),
          cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE, timeout);
      ASSERT_TRUE(id.ok()) << id.status();
    }
    absl::Status closed = producer->Close(timeout);
    EXPECT_TRUE(closed.ok()) << closed << "\n" << daemon_->Stderr();
    std::vector<ProducerAck> acks = producer->TakeAcks();
    EXPECT_EQ(acks.size(), static_cast<size_t>(count));
    for (const ProducerAck& ack : acks)
      EXPECT_TRUE(ack.status.ok()) << ack.status;
  }
};

TEST_F(PublishSocketTest, TheSocketIsMadeLikeTheApiSocket) {
  struct stat api;
  struct stat publish;
  ASSERT_EQ(stat(daemon_->socket_path().c_str(), &api), 0);
  ASSERT_EQ(stat(PublishSocket().c_str(), &publish), 0) << daemon_->Stderr();
  EXPECT_TRUE(S_ISSOCK(publish.st_mode));
  EXPECT_EQ(publish.st_mode & 07777, 0660u);
  EXPECT_EQ(publish.st_gid, api.st_gid);
  EXPECT_TRUE(absl::StrContains(
      daemon_->Stderr(),
      "PUBLISH: serving the publish socket on " + PublishSocket()));
}

TEST_F(PublishSocketTest, AnotherProtocolGetsAnEndNamingTheProblem) {
  RawProducer http = RawProducer::Connect(PublishSocket());
  ASSERT_TRUE(http.connected());
  ASSERT_TRUE(http.Write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  absl::optional<PublishSocketReply> end = http.End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(absl::StrContains(end->end().message(),
                                "does not speak the publish socket"))
      << end->end().message();
  EXPECT_FALSE(http.Reply().has_value());  // closed

  RawProducer wrong = RawProducer::Connect(PublishSocket());
  cloudlink::v1::PublishSocketHello hello;
  hello.set_version(7);
  ASSERT_TRUE(wrong.Send(hello));
  end = wrong.End();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(absl::StartsWith(end->end().message(), "REQUEST_MALFORMED"));

  ExpectAProducerIsServed(10, absl::Seconds(30));
}

// Online, the link thread serves the publish socket (lendable_loop.h): a
// steady producer (50 messages, 20 ms apart) wakes the socket's own thread
// for none of them (it woke at least once per message before).
TEST_F(PublishSocketTest, OnlineTheLinkThreadServesTheSocket) {
  const pid_t pid = daemon_->process()->pid();
  ASSERT_GE(testing::ThreadSwitches(pid, "publish-socket"), 0)
      << "no thread named publish-socket";
  std::unique_ptr<Producer> producer =
      Producer::OpenSocket(PublishSocket(), ProducerOptions());
  // (The socket thread checks the new caller: one wake-up, which may fall
  // inside the count.)
  const int64_t before = testing::ThreadSwitches(pid, "publish-socket");
  constexpr int kMessages = 50;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(producer->Publish("node-instance-info", absl::StrCat(i)).ok());
    usleep(20000);  // a steady producer's pace, not a synchronisation
  }
  const int64_t after = testing::ThreadSwitches(pid, "publish-socket");
  RecordProperty("socket_thread_switches", static_cast<int>(after - before));
  EXPECT_LT(after - before, 10)
      << "the socket's own thread woke for the messages";
  const absl::Status closed = producer->Close(absl::Seconds(30));
  EXPECT_TRUE(closed.ok()) << closed << "\n" << daemon_->Stderr();
  const std::vector<ProducerAck> acks = producer->TakeAcks();
  EXPECT_EQ(acks.size(), static_cast<size_t>(kMessages));
  for (const ProducerAck& ack : acks)
    EXPECT_TRUE(ack.status.ok()) << ack.status;
}

TEST_F(PublishSocketTest, AProducerThatNeverReadsItsAcksStallsOnlyItself) {
  RawProducer hog = RawProducer::Connect(PublishSocket());
  ASSERT_TRUE(hog.connected());
  int small = 4096;
  setsockopt(hog.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  ASSERT_TRUE(hog.Hello());
  // Writes until the daemon stops reading it (its acks fill both socket
  // buffers and then its backlog), bounded by 30 s of trying.
  ASSERT_EQ(fcntl(hog.fd(), F_SETFL, O_NONBLOCK), 0);
  std::string frame;
  publish_socket::AppendFrame(Single(1, std::string(64, 'h')), &frame);
  const absl::Time until = absl::Now() + absl::Seconds(30);
  uint64_t written = 0;
  int stuck_rounds = 0;
  while (absl::Now() < until && stuck_rounds < 50) {
    const ssize_t n = send(hog.fd(), frame.data(), frame.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(frame.size())) {
      ++written;
      stuck_rounds = 0;
      continue;
    }
    ASSERT_TRUE(n < 0 && errno == EAGAIN) << n << " " << strerror(errno);
    ++stuck_rounds;  // the daemon is not reading: give it a moment
    usleep(20000);
  }
  ASSERT_GE(stuck_rounds, 50) << "the daemon kept reading a producer that "
                                 "reads no acks";
  EXPECT_GT(written, 1000u);
  // Others are served as usual.
  ExpectAProducerIsServed(50, absl::Seconds(30));
  // The hog reads at last: its acks come, every one OK.
  ASSERT_EQ(fcntl(hog.fd(), F_SETFL, 0), 0);
  ASSERT_EQ(shutdown(hog.fd(), SHUT_WR), 0);
  uint64_t acked = 0;
  absl::optional<PublishSocketReply> reply;
  while ((reply = hog.Reply()).has_value() && !reply->has_end()) {
    ASSERT_EQ(reply->ack().code(), 0) << reply->ack().message();
    ++acked;
  }
  ASSERT_TRUE(reply.has_value()) << "no end frame after " << acked << " acks";
  EXPECT_EQ(reply->end().code(), 0);
  EXPECT_EQ(acked, written);
}

TEST_F(PublishSocketTest, AStreamOutlivesSighupAndEndsWithTheDaemon) {
  RawProducer stream = RawProducer::Connect(PublishSocket());
  ASSERT_TRUE(stream.Hello());
  ASSERT_TRUE(stream.Send(Single(1, "before")));
  absl::optional<PublishSocketReply> ack = stream.Reply();
  ASSERT_TRUE(ack.has_value() && ack->has_ack()) << daemon_->Stderr();
  EXPECT_EQ(ack->ack().code(), 0);
  daemon_->process()->Signal(SIGHUP);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return absl::StrContains(daemon_->Stderr(), "cloudlinkd: reloaded");
      },
      absl::Seconds(10)));
  ASSERT_TRUE(stream.Send(Single(2, "after")));
  ack = stream.Reply();
  ASSERT_TRUE(ack.has_value() && ack->has_ack()) << daemon_->Stderr();
  EXPECT_EQ(ack->ack().id(), 2u);
  EXPECT_EQ(ack->ack().code(), 0);
  absl::StatusOr<int> stopped = daemon_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
  absl::optional<PublishSocketReply> end = stream.End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(absl::StartsWith(end->end().message(), "SHUTTING_DOWN"));
  struct stat st;
  EXPECT_NE(stat(PublishSocket().c_str(), &st), 0);  // removed
}

}  // namespace
}  // namespace cloudlink::integration

// One publish socket connection, driven as the socket thread drives it,
// over a real socketpair, with a real Publisher and PublishQueue; the test
// plays the link (it takes the queue's messages and completes them).

#include "server/publish_socket/connection.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/api/wait_pool.h"
#include "server/common/error.h"
#include "server/publish/completion_batch.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "tests/server/publish_socket/raw_producer.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::publish_socket {
namespace {

using cloudlink::v1::PublishRequest;
using cloudlink::v1::PublishSocketReply;

constexpr uint32_t kIn = EPOLLIN;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(ConnectionLimits(), 1 << 20, RealClock()); }

  void TearDown() override {
    if (connection_ != nullptr) connection_->Close();
    connection_.reset();
    producer_.reset();
  }

  // A connection whose queue holds `queue_bytes`.
  void Make(ConnectionLimits limits, size_t queue_bytes, Clock* clock) {
    if (connection_ != nullptr) connection_->Close();
    connection_.reset();
    producer_.reset();
    publish::QueueOptions queue_options;
    queue_options.max_bytes = queue_bytes;
    queue_options.release_memory = nullptr;
    queue_ = std::make_unique<publish::PublishQueue>(queue_options, clock);
    publisher_ = std::make_unique<publish::Publisher>(queue_.get(), nullptr);
    context_.publisher = publisher_.get();
    context_.wait_pool = &pool_;
    context_.shutting_down = &shutting_down_;
    context_.limits = limits;
    context_.clock = clock;
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ASSERT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    producer_.emplace(fds[1], absl::Seconds(10));
    connection_ = std::make_shared<Connection>(
        fds[0], &context_,
        [this](std::shared_ptr<Connection>) { attention_.fetch_add(1); });
  }

  void Send(const google::protobuf::MessageLite& message) {
    ASSERT_TRUE(producer_->Send(message));
  }
  void SendRaw(const std::string& bytes) {
    ASSERT_TRUE(producer_->Write(bytes));
  }
  void Hello(absl::Duration timeout = absl::ZeroDuration()) {
    ASSERT_TRUE(producer_->Hello(timeout));
  }
  static PublishRequest Single(uint64_t id, std::string topic = "t",
                               bool wait = false) {
    PublishRequest request;
    request.set_id(id);
    request.set_topic(std::move(topic));
    request.set_payload("p");
    request.set_wait_when_full(wait);
    return request;
  }
  static PublishRequest Batch(std::vector<uint64_t> ids) {
    PublishRequest request;
    for (uint64_t id : ids) {
      cloudlink::v1::PublishMessage* m = request.add_batch();
      m->set_id(id);
      m->set_topic("t");
      m->set_payload("p");
    }
    return request;
  }

  // The next reply frame from the connection (bounded).
  absl::optional<PublishSocketReply> Reply() { return producer_->Reply(); }

  // Bytes waiting on the producer's side, without blocking.
  size_t Pending() {
    int available = 0;
    ioctl(producer_->fd(), FIONREAD, &available);
    return static_cast<size_t>(available);
  }

  // Completes what the queue holds with `status`, in one link pass.
  size_t CompleteAll(absl::Status status = absl::OkStatus()) {
    std::vector<publish::Message> messages =
        queue_->TakeBatch(1 << 20, 1 << 30);
    publish::CompletionBatch pass;
    for (publish::Message& m : messages) m.done(status);
    return messages.size();
  }

  api::WaitPool pool_;
  std::atomic<bool> shutting_down_{false};
  ConnectionContext context_;
  std::unique_ptr<publish::PublishQueue> queue_;
  std::unique_ptr<publish::Publisher> publisher_;
  std::shared_ptr<Connection> connection_;
  absl::optional<RawProducer> producer_;
  std::atomic<int> attention_{0};
};

TEST_F(ConnectionTest, SingleAndBatchedMessagesAreAckedByTheCompletingPass) {
  Hello();
  Send(Single(7));
  Send(Batch({1, 2, 3}));
  absl::optional<uint32_t> wanted = connection_->Service(kIn);
  ASSERT_TRUE(wanted.has_value());
  EXPECT_TRUE(*wanted & EPOLLIN);
  EXPECT_EQ(connection_->requests_read(), 2u);
  EXPECT_EQ(Pending(), 0u);  // nothing is acked before it is delivered
  ASSERT_EQ(CompleteAll(), 4u);
  // The completing thread wrote the acks itself: one for the single
  // message, one batch ack for the batch; the socket thread was not asked.
  absl::optional<PublishSocketReply> single = Reply();
  ASSERT_TRUE(single.has_value() && single->has_ack());
  EXPECT_EQ(single->ack().id(), 7u);
  EXPECT_EQ(single->ack().code(), 0);
  absl::optional<PublishSocketReply> batch = Reply();
  ASSERT_TRUE(batch.has_value() && batch->has_ack());
  EXPECT_EQ(std::set<uint64_t>(batch->ack().ok_ids().begin(),
                               batch->ack().ok_ids().end()),
            (std::set<uint64_t>{1, 2, 3}));
  EXPECT_EQ(attention_.load(), 0);
}

TEST_F(ConnectionTest, FailuresComeBackWithTheirReason) {
  publisher_->SetTopicNames({"t"});
  Hello();
  PublishRequest request = Batch({1});
  cloudlink::v1::PublishMessage* bad = request.add_batch();
  bad->set_id(2);
  bad->set_topic("no-such-topic");
  Send(request);
  ASSERT_TRUE(connection_->Service(kIn).has_value());
  absl::optional<PublishSocketReply> refused = Reply();  // at once
  ASSERT_TRUE(refused.has_value() && refused->has_ack());
  ASSERT_EQ(refused->ack().failed_size(), 1);
  EXPECT_EQ(refused->ack().failed(0).id(), 2u);
  EXPECT_EQ(refused->ack().failed(0).code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(
      absl::StartsWith(refused->ack().failed(0).message(), "TOPIC_UNKNOWN"));
  ASSERT_EQ(CompleteAll(absl::DeadlineExceededError("PUBLISH_TIMEOUT: late")),
            1u);
  absl::optional<PublishSocketReply> late = Reply();
  ASSERT_TRUE(late.has_value() && late->has_ack());
  ASSERT_EQ(late->ack().failed_size(), 1);
  EXPECT_EQ(late->ack().failed(0).id(), 1u);
}

TEST_F(ConnectionTest, AHalfCloseEndsTheStreamOnceEverythingIsAcked) {
  Hello();
  Send(Single(1));
  ASSERT_EQ(shutdown(producer_->fd(), SHUT_WR), 0);
  absl::optional<uint32_t> wanted = connection_->Service(kIn);
  ASSERT_TRUE(wanted.has_value());
  // A short read stops there; epoll reports the end of the stream next.
  wanted = connection_->Service(kIn);
  ASSERT_TRUE(wanted.has_value());  // one message is still outstanding
  EXPECT_EQ(*wanted & EPOLLIN, 0u);
  EXPECT_EQ(attention_.load(), 0);
  ASSERT_EQ(CompleteAll(), 1u);
  EXPECT_EQ(attention_.load(), 1);  // the socket thread ends it
  EXPECT_FALSE(connection_->Service(0).has_value());
  absl::optional<PublishSocketReply> ack = Reply();
  ASSERT_TRUE(ack.has_value() && ack->has_ack());
  absl::optional<PublishSocketReply> end = Reply();
  ASSERT_TRUE(end.has_value() && end->has_end());
  EXPECT_EQ(end->end().code(), 0);
}

TEST_F(ConnectionTest, AWrongHelloEndsTheStreamWithRequestMalformed) {
  cloudlink::v1::PublishSocketHello hello;
  hello.set_version(2);
  Send(hello);
  Send(Single(1));
  EXPECT_FALSE(connection_->Service(kIn).has_value());
  absl::optional<PublishSocketReply> end = Reply();
  ASSERT_TRUE(end.has_value() && end->has_end());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(absl::StartsWith(end->end().message(), "REQUEST_MALFORMED"));
  EXPECT_TRUE(absl::StrContains(end->end().message(), "PublishSocketHello"));
  EXPECT_EQ(CompleteAll(), 0u);  // the request after it was not read
}

TEST_F(ConnectionTest, AFrameThatIsNotARequestEndsAfterTheEarlierAcks) {
  Hello();
  Send(Single(1));
  std::string garbage("\0\0\0\3\xff\xff\xff", 7);
  SendRaw(garbage);
  ASSERT_TRUE(connection_->Service(kIn).has_value());
  ASSERT_EQ(CompleteAll(), 1u);
  EXPECT_FALSE(connection_->Service(0).has_value());
  absl::optional<PublishSocketReply> ack = Reply();
  ASSERT_TRUE(ack.has_value() && ack->has_ack());
  EXPECT_EQ(ack->ack().id(), 1u);
  absl::optional<PublishSocketReply> end = Reply();
  ASSERT_TRUE(end.has_value() && end->has_end());
  EXPECT_TRUE(absl::StartsWith(end->end().message(), "REQUEST_MALFORMED"));
}

TEST_F(ConnectionTest, AnOversizedFrameEndsWithFrameTooLarge) {
  Hello();
  SendRaw(std::string("\x7f\xff\xff\xff", 4));
  EXPECT_FALSE(connection_->Service(kIn).has_value());
  absl::optional<PublishSocketReply> end = Reply();
  ASSERT_TRUE(end.has_value() && end->has_end());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(absl::StartsWith(end->end().message(), "FRAME_TOO_LARGE"));
}

TEST_F(ConnectionTest, AProducerThatReadsNoAcksIsNotReadEither) {
  ConnectionLimits limits;
  limits.max_ack_backlog = 8;
  Make(limits, 1 << 20, RealClock());
  int small = 4096;
  ASSERT_EQ(setsockopt(connection_->fd(), SOL_SOCKET, SO_SNDBUF, &small,
                       sizeof(small)),
            0);
  publisher_->SetTopicNames({"t"});
  Hello();
  // Every message is refused at once with an error ack that quotes its
  // topic, until the socket takes no more and the backlog passes 8.
  const std::string topic(300, 'x');
  int sent = 0;
  absl::optional<uint32_t> wanted = 0;
  for (; sent < 200; ++sent) {
    Send(Single(sent + 1, topic));
    wanted = connection_->Service(kIn);
    ASSERT_TRUE(wanted.has_value());
    if ((*wanted & EPOLLIN) == 0) break;
  }
  ASSERT_LT(sent, 200) << "the connection never paused";
  EXPECT_TRUE(*wanted & EPOLLOUT);
  const uint64_t read_when_paused = connection_->requests_read();
  Send(Single(999, topic));
  EXPECT_EQ(connection_->Service(0).value_or(0) & EPOLLIN, 0u);
  EXPECT_EQ(connection_->requests_read(), read_when_paused);
  // The producer reads its acks: the connection writes the rest and reads
  // again.
  int acks = 0;
  while (acks < static_cast<int>(read_when_paused)) {
    absl::optional<PublishSocketReply> reply = Reply();
    ASSERT_TRUE(reply.has_value());
    ++acks;
    if (acks % 4 == 0) connection_->Service(EPOLLOUT);
  }
  wanted = connection_->Service(EPOLLOUT);
  ASSERT_TRUE(wanted.has_value());
  EXPECT_TRUE(*wanted & EPOLLIN);
  connection_->Service(kIn);
  EXPECT_EQ(connection_->requests_read(), read_when_paused + 1);
}

TEST_F(ConnectionTest, AFullQueueSendsTheRequestToAWaitingThread) {
  Make(ConnectionLimits(), /*queue_bytes=*/2, RealClock());
  Hello();
  Send(Single(1));  // fills the queue (topic "t" + payload "p")
  Send(Single(2, "t", /*wait=*/true));
  absl::optional<uint32_t> wanted = connection_->Service(kIn);
  ASSERT_TRUE(wanted.has_value());
  EXPECT_EQ(*wanted & EPOLLIN, 0u);  // reads nothing while it waits
  EXPECT_EQ(connection_->requests_waited(), 1u);
  ASSERT_EQ(CompleteAll(), 1u);  // room: the waiting thread pushes #2
  ASSERT_TRUE(testing::WaitFor([&] { return attention_.load() > 0; },
                               absl::Seconds(10)));
  wanted = connection_->Service(0);
  ASSERT_TRUE(wanted.has_value());
  EXPECT_TRUE(*wanted & EPOLLIN);
  ASSERT_EQ(CompleteAll(), 1u);
  std::set<uint64_t> acked;
  for (int i = 0; i < 2; ++i) {
    absl::optional<PublishSocketReply> reply = Reply();
    ASSERT_TRUE(reply.has_value() && reply->has_ack());
    EXPECT_EQ(reply->ack().code(), 0);
    acked.insert(reply->ack().id());
  }
  EXPECT_EQ(acked, (std::set<uint64_t>{1, 2}));
}

TEST_F(ConnectionTest, TheHellosTimeoutEndsTheStream) {
  testing::FakeClock clock;
  Make(ConnectionLimits(), 1 << 20, &clock);
  Hello(absl::Seconds(30));
  Send(Single(1));
  ASSERT_TRUE(connection_->Service(kIn).has_value());
  EXPECT_LT(connection_->deadline(), MonotonicTime::InfiniteFuture());
  clock.Advance(absl::Seconds(31));
  EXPECT_FALSE(connection_->Service(0).has_value());
  absl::optional<PublishSocketReply> end = Reply();
  ASSERT_TRUE(end.has_value() && end->has_end());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(ConnectionTest, EndDropsTheAcksNotYetWritten) {
  Hello();
  Send(Single(1));
  ASSERT_TRUE(connection_->Service(kIn).has_value());
  connection_->End(Error(absl::StatusCode::kUnavailable, reason::kShuttingDown,
                         "cloudlinkd is stopping"));
  EXPECT_FALSE(connection_->Service(0).has_value());
  connection_->Close();
  ASSERT_EQ(CompleteAll(), 1u);  // after the end: dropped, no crash
  absl::optional<PublishSocketReply> end = Reply();
  ASSERT_TRUE(end.has_value() && end->has_end());
  EXPECT_TRUE(absl::StartsWith(end->end().message(), "SHUTTING_DOWN"));
  EXPECT_FALSE(Reply().has_value());  // then the end of the stream
}

TEST_F(ConnectionTest, AProducerThatVanishesLeavesItsMessagesAccepted) {
  Hello();
  Send(Batch({1, 2}));
  ASSERT_TRUE(connection_->Service(kIn).has_value());
  producer_->Close();
  EXPECT_FALSE(connection_->Service(EPOLLIN | EPOLLHUP).has_value());
  EXPECT_EQ(CompleteAll(), 2u);  // still delivered; the acks go nowhere
}

}  // namespace
}  // namespace cloudlink::publish_socket

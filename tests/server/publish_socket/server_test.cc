// The publish socket's server in this process: the producer library's
// OpenSocket against it, a test thread playing the link; out of
// descriptors it pauses accepting instead of spinning; a stop ends every
// stream; a lent loop is served by its borrower alone.

#include "server/publish_socket/server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/producer.h"
#include "server/api/authorizer.h"
#include "server/common/mutex.h"
#include "server/publish/completion_batch.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "tests/server/publish_socket/raw_producer.h"
#include "tests/testing/test_env.h"

namespace cloudlink::publish_socket {
namespace {

using client::Producer;
using client::ProducerAck;
using client::ProducerOptions;
using cloudlink::v1::PublishSocketReply;

// Takes what the queue holds and completes it OK, as the link would, woken
// by the queue's wake callback.
class FakeLink {
 public:
  explicit FakeLink(publish::PublishQueue* queue) : queue_(queue) {
    queue_->SetWakeCallback([this] {
      MutexLock lock(&mu_);
      work_ = true;
    });
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeLink() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
    queue_->SetWakeCallback(nullptr);
  }
  void set_paused(bool paused) {
    MutexLock lock(&mu_);
    paused_ = paused;
    work_ = true;
  }

 private:
  void Run() {
    while (true) {
      {
        MutexLock lock(&mu_);
        mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || (work_ && !paused_);
        });
        if (stop_) return;
        work_ = false;
      }
      std::vector<publish::Message> batch = queue_->TakeBatch(1024, 1 << 30);
      publish::CompletionBatch pass;
      for (publish::Message& m : batch) m.done(absl::OkStatus());
      if (!batch.empty()) {
        MutexLock lock(&mu_);
        work_ = true;  // there may be more
      }
    }
  }

  publish::PublishQueue* const queue_;
  Mutex mu_;
  bool work_ ABSL_GUARDED_BY(mu_) = true;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    publish::QueueOptions options;
    options.release_memory = nullptr;
    queue_ = std::make_unique<publish::PublishQueue>(options);
    publisher_ = std::make_unique<publish::Publisher>(queue_.get(), nullptr);
    authorizer_ = std::make_unique<api::Authorizer>(
        api::UnixPolicy::Resolve("clnosuchgroup"), api::AllowedSubjects(),
        nullptr);
    ServerOptions options_;
    options_.path = tmp_.Join("publish.sock");
    options_.group = getegid();
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start(options_, publisher_.get(), authorizer_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  std::string Path() const { return tmp_.Join("publish.sock"); }

  // Sends message `id` (topic "t") and expects its ack, OK.
  static void ExpectServed(RawProducer& producer, uint64_t id) {
    cloudlink::v1::PublishRequest request;
    request.set_id(id);
    request.set_topic("t");
    request.set_payload("p");
    ASSERT_TRUE(producer.Send(request));
    absl::optional<PublishSocketReply> reply = producer.Reply();
    ASSERT_TRUE(reply.has_value()) << "no ack";
    ASSERT_TRUE(reply->has_ack());
    EXPECT_EQ(reply->ack().id(), id);
    EXPECT_EQ(reply->ack().code(), 0) << reply->ack().message();
  }

  testing::TempDir tmp_;
  std::unique_ptr<publish::PublishQueue> queue_;
  std::unique_ptr<publish::Publisher> publisher_;
  std::unique_ptr<api::Authorizer> authorizer_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, EveryMessageOfManyProducersIsAckedOnce) {
  FakeLink link(queue_.get());
  constexpr int kProducers = 4;
  constexpr int kMessages = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      ProducerOptions options;
      options.window = 64;
      auto producer =
          Producer::OpenSocket(Path(), options, [&](const ProducerAck& ack) {
            (ack.status.ok() ? ok : bad).fetch_add(1);
          });
      for (int i = 0; i < kMessages; ++i) {
        absl::StatusOr<uint64_t> id = producer->Publish(
            "t", absl::StrCat(p, ":", i),
            cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE, absl::Seconds(30));
        if (!id.ok()) {
          ADD_FAILURE() << id.status();
          return;
        }
      }
      absl::Status closed = producer->Close(absl::Seconds(30));
      EXPECT_TRUE(closed.ok()) << closed;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kProducers * kMessages);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_TRUE(testing::WaitFor([&] { return server_->open() == 0; },
                               absl::Seconds(10)));
}

TEST_F(ServerTest, OutOfDescriptorsItPausesAcceptingAndThenServes) {
  FakeLink link(queue_.get());
  rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  // Take every descriptor left under a low limit.
  rlimit low = old;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> hogs;
  // The client's socket, made before the table is full.
  const int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  while (true) {
    const int fd = dup(0);
    if (fd < 0) break;
    hogs.push_back(fd);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, Path().data(), Path().size());
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  // The server cannot accept it: for a second it must not spin.
  rusage before;
  getrusage(RUSAGE_SELF, &before);
  const absl::Time start = absl::Now();
  testing::WaitFor([] { return false; }, absl::Seconds(1));
  rusage after;
  getrusage(RUSAGE_SELF, &after);
  const absl::Duration cpu = absl::DurationFromTimeval(after.ru_utime) -
                             absl::DurationFromTimeval(before.ru_utime) +
                             absl::DurationFromTimeval(after.ru_stime) -
                             absl::DurationFromTimeval(before.ru_stime);
  const absl::Duration wall = absl::Now() - start;
  for (int fd : hogs) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  // WaitFor polls too; a spinning server would burn most of the second.
  EXPECT_LT(cpu, wall / 4) << "cpu " << cpu << " in " << wall;
  // With descriptors back, the waiting connection is served.
  RawProducer producer(client, absl::Seconds(10));
  ASSERT_TRUE(producer.Hello());
  ExpectServed(producer, 5);
}

// Each stream's timeout (the hello's) ends that stream when it passes, in
// the order they fall due, and no other: the server keeps the connections'
// deadlines in order instead of scanning them.
TEST_F(ServerTest, EachStreamEndsAtItsOwnTimeoutAndNoOtherDoes) {
  FakeLink link(queue_.get());
  RawProducer later = RawProducer::Connect(Path());
  RawProducer sooner = RawProducer::Connect(Path());
  RawProducer endless = RawProducer::Connect(Path());
  ASSERT_TRUE(later.connected() && sooner.connected() && endless.connected());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(later.Hello(absl::Seconds(2)));
  ASSERT_TRUE(sooner.Hello(absl::Seconds(1)));
  ASSERT_TRUE(endless.Hello());

  absl::optional<PublishSocketReply> end = sooner.End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded))
      << end->end().message();
  const absl::Duration sooner_took = absl::Now() - start;
  end = later.End();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->end().code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  const absl::Duration later_took = absl::Now() - start;
  EXPECT_GE(sooner_took, absl::Seconds(1));
  EXPECT_GE(later_took, absl::Seconds(2));
  EXPECT_LT(later_took, absl::Seconds(10));

  // The stream without a timeout is still served.
  ExpectServed(endless, 7);
  EXPECT_TRUE(testing::WaitFor([&] { return server_->open() == 1; },
                               absl::Seconds(10)));
}

TEST_F(ServerTest, StopEndsEveryStreamAndRemovesTheSocket) {
  FakeLink link(queue_.get());
  link.set_paused(true);  // the message stays outstanding
  auto producer = Producer::OpenSocket(Path(), ProducerOptions());
  ASSERT_TRUE(producer->Publish("t", "p").ok());
  ASSERT_TRUE(testing::WaitFor([&] { return queue_->stats().pushed == 1; },
                               absl::Seconds(10)));
  server_->Stop();
  struct stat st;
  EXPECT_NE(stat(Path().c_str(), &st), 0);
  absl::Status closed = producer->Close(absl::Seconds(10));
  EXPECT_EQ(closed.code(), absl::StatusCode::kUnavailable) << closed;
  EXPECT_TRUE(absl::StartsWith(closed.message(), "SHUTTING_DOWN")) << closed;
  std::vector<ProducerAck> acks = producer->TakeAcks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(ServerTest, StopWaitsForARequestWaitingForRoomToGiveUp) {
  // A queue with room for one message, and no link: the second message
  // waits for room on a thread of the wait pool.
  server_->Stop();
  server_.reset();
  publish::QueueOptions small;
  small.max_bytes = 2;
  small.release_memory = nullptr;
  queue_ = std::make_unique<publish::PublishQueue>(small);
  publisher_ = std::make_unique<publish::Publisher>(queue_.get(), nullptr);
  ServerOptions options;
  options.path = Path();
  options.group = getegid();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(options, publisher_.get(), authorizer_.get());
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  ProducerOptions waiting;
  waiting.wait_when_full = true;
  auto producer = Producer::OpenSocket(Path(), waiting);
  ASSERT_TRUE(producer->Publish("t", "p").ok());
  ASSERT_TRUE(producer->Publish("t", "p").ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return queue_->stats().pushed == 1 && server_->open() == 1; },
      absl::Seconds(10)));
  const absl::Time start = absl::Now();
  server_->Stop();  // returns only once the waiting request gave up
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(queue_->stats().pushed, 1u);
  absl::Status closed = producer->Close(absl::Seconds(10));
  EXPECT_TRUE(absl::StartsWith(closed.message(), "SHUTTING_DOWN")) << closed;
}

// True when `fd` is readable within 10 s.
bool ReadableSoon(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 10000) == 1 && (p.revents & POLLIN) != 0;
}

// While the loop is lent, the socket's own thread reads nothing: a request
// waits in the epoll set until the borrower serves it. Given back, the
// thread serves again. One borrower at a time.
TEST_F(ServerTest, ALentLoopIsServedByItsBorrowerAlone) {
  FakeLink link(queue_.get());
  RawProducer producer = RawProducer::Connect(Path());
  ASSERT_TRUE(producer.Hello());
  ExpectServed(producer, 1);  // by the socket thread

  const int fd = server_->Borrow();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(server_->Borrow(), -1) << "lent twice";
  cloudlink::v1::PublishRequest request;
  request.set_id(2);
  request.set_topic("t");
  request.set_payload("p");
  ASSERT_TRUE(producer.Send(request));
  ASSERT_TRUE(ReadableSoon(fd)) << "the lent descriptor never showed input";
  EXPECT_EQ(queue_->stats().pushed, 1u) << "read while lent, not by the "
                                           "borrower";
  while (queue_->stats().pushed < 2) {  // bounded: the request is there
    ASSERT_TRUE(server_->Serve());
    ASSERT_TRUE(queue_->stats().pushed == 2 || ReadableSoon(fd));
  }
  absl::optional<PublishSocketReply> reply = producer.Reply();
  ASSERT_TRUE(reply.has_value() && reply->has_ack());
  EXPECT_EQ(reply->ack().id(), 2u);
  EXPECT_EQ(reply->ack().code(), 0) << reply->ack().message();

  server_->GiveBack();
  ExpectServed(producer, 3);  // by the socket thread again
  EXPECT_EQ(queue_->stats().pushed, 3u);
}

// While the loop is lent, a new producer is accepted by the borrower,
// checked by the socket's own thread (the checks may wait on the user
// database: never on the borrower's thread), handed back, and served by
// the borrower; given back, the socket thread serves it on.
TEST_F(ServerTest, WhileLentANewProducerIsAdmittedAndServed) {
  FakeLink link(queue_.get());
  const int fd = server_->Borrow();
  ASSERT_GE(fd, 0);
  RawProducer producer = RawProducer::Connect(Path());
  ASSERT_TRUE(producer.connected());
  ASSERT_TRUE(producer.Hello());
  cloudlink::v1::PublishRequest request;
  request.set_id(7);
  request.set_topic("t");
  request.set_payload("p");
  ASSERT_TRUE(producer.Send(request));
  while (queue_->stats().pushed < 1) {  // bounded: each turn waits ≤ 10 s
    ASSERT_TRUE(ReadableSoon(fd)) << "the borrower was not woken";
    ASSERT_TRUE(server_->Serve());
  }
  EXPECT_EQ(server_->open(), 1u);
  absl::optional<PublishSocketReply> reply = producer.Reply();
  ASSERT_TRUE(reply.has_value() && reply->has_ack());
  EXPECT_EQ(reply->ack().id(), 7u);
  server_->GiveBack();
  ExpectServed(producer, 8);
}

// Stop() while the loop is lent: the borrower's next Serve() says so, and
// once the loop is given back every stream ends as in any stop; a stopped
// server lends nothing.
TEST_F(ServerTest, AStopWhileLentEndsAtTheBorrowersNextServe) {
  FakeLink link(queue_.get());
  RawProducer producer = RawProducer::Connect(Path());
  ASSERT_TRUE(producer.Hello());
  ExpectServed(producer, 1);
  const int fd = server_->Borrow();
  ASSERT_GE(fd, 0);

  std::thread stopper([this] { server_->Stop(); });
  bool serving = true;
  for (int turns = 0; serving && turns < 100; ++turns) {
    ASSERT_TRUE(ReadableSoon(fd)) << "the stop never reached the borrower";
    serving = server_->Serve();
  }
  EXPECT_FALSE(serving);
  server_->GiveBack();
  stopper.join();

  absl::optional<PublishSocketReply> reply = producer.Reply();
  ASSERT_TRUE(reply.has_value() && reply->has_end()) << "no end frame";
  EXPECT_EQ(reply->end().code(),
            static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(absl::StartsWith(reply->end().message(), "SHUTTING_DOWN"))
      << reply->end().message();
  EXPECT_EQ(server_->Borrow(), -1);
}

}  // namespace
}  // namespace cloudlink::publish_socket

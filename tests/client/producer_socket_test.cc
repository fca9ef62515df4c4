// The producer library's publish socket stream (client/producer_socket.cc)
// against a scripted cloudlinkd on a Unix socket of the test's own: how the
// producer sees the stream end, and who reads the acks.

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/producer.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/mutex.h"
#include "server/publish_socket/frame.h"
#include "tests/testing/test_env.h"
#include "tests/testing/thread_switches.h"

namespace cloudlink::client {
namespace {

using ::testing::ElementsAre;

// A listening Unix socket at `path`, or -1.
int Listen(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return -1;
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads what the producer has written so far (its writes are done when its
// calls return), so that closing `fd` is a plain end of stream.
void Drain(int fd) {
  char buf[4096];
  while (true) {
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    return;
  }
}

// The end frame's status, as cloudlinkd ends a stream when it stops.
absl::Status EndStatus() {
  return absl::UnavailableError("SHUTTING_DOWN: cloudlinkd is stopping");
}

void SendEnd(int fd) {
  cloudlink::v1::PublishSocketReply reply;
  reply.mutable_end()->set_code(static_cast<int>(EndStatus().code()));
  reply.mutable_end()->set_message(std::string(EndStatus().message()));
  std::string frame;
  publish_socket::AppendFrame(reply, &frame);
  ASSERT_EQ(send(fd, frame.data(), frame.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(frame.size()));
}

// The producer's end of a scripted cloudlinkd connection: reads its frames
// (the hello, then PublishRequests) and answers acks and the end.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(int fd) : fd_(fd) {}
  ~ScriptedPeer() {
    if (fd_ >= 0) close(fd_);
  }

  // The next frame's bytes, waiting at most 30 s; "" when none came.
  std::string NextFrame() {
    const absl::Time until = absl::Now() + absl::Seconds(30);
    while (true) {
      absl::StatusOr<absl::optional<absl::string_view>> frame = frames_.Next();
      if (!frame.ok()) return "";
      if (frame->has_value()) return std::string(**frame);
      pollfd p{fd_, POLLIN, 0};
      const int ms =
          static_cast<int>(absl::ToInt64Milliseconds(until - absl::Now()));
      if (ms <= 0 || poll(&p, 1, ms) <= 0) return "";
      char* to = frames_.Reserve(4096);
      const ssize_t n = recv(fd_, to, 4096, 0);
      frames_.Commit(n > 0 ? static_cast<size_t>(n) : 0);
      if (n <= 0) return "";
    }
  }

  // The next PublishRequest's message ids (after the hello), or none.
  std::vector<uint64_t> NextRequestIds() {
    if (!hello_read_) {
      hello_read_ = true;
      cloudlink::v1::PublishSocketHello hello;
      if (!hello.ParseFromString(NextFrame())) return {};
    }
    cloudlink::v1::PublishRequest request;
    if (!request.ParseFromString(NextFrame())) return {};
    std::vector<uint64_t> ids;
    for (const cloudlink::v1::PublishMessage& m : request.batch()) {
      ids.push_back(m.id());
    }
    return ids;
  }

  void AckOk(const std::vector<uint64_t>& ids) {
    cloudlink::v1::PublishSocketReply reply;
    for (uint64_t id : ids) reply.mutable_ack()->add_ok_ids(id);
    std::string frame;
    publish_socket::AppendFrame(reply, &frame);
    ASSERT_EQ(send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(frame.size()));
  }

  int fd() const { return fd_; }

 private:
  int fd_;
  publish_socket::FrameReader frames_;
  bool hello_read_ = false;
};

// When the stream ends, the outstanding messages fail; a Publish while
// their failures are being handed out (done_ not yet set) is refused with
// the stream's error rather than taking an id that would never be acked.
TEST(ProducerSocketTest, NoMessageIsTakenWhileTheEndFailsTheOutstanding) {
  testing::TempDir dir;
  const std::string path = dir.Join("publish.sock");
  const int listener = Listen(path);
  ASSERT_GE(listener, 0) << strerror(errno);

  Mutex mu;
  std::map<uint64_t, std::vector<absl::Status>> acks;  // id → its acks
  bool failing = false;    // the reading thread is in on_ack
  bool published = false;  // the test has made its late Publish
  std::unique_ptr<Producer> producer = Producer::OpenSocket(
      path, ProducerOptions(), [&](const ProducerAck& ack) {
        MutexLock lock(&mu);
        acks[ack.id].push_back(ack.status);
        // Holds the reading thread inside the end (a real callback must
        // not block) until the test has published; bounded.
        failing = true;
        mu.AwaitWithTimeout(&published, absl::Seconds(30));
      });
  absl::StatusOr<uint64_t> first =
      producer->Publish("node-instance-info", "outstanding");
  ASSERT_TRUE(first.ok()) << first.status();

  // cloudlinkd ends the stream with the message still outstanding.
  const int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0) << strerror(errno);
  Drain(conn);
  SendEnd(conn);
  close(conn);
  close(listener);

  {
    MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(&failing, absl::Seconds(30)));
  }
  absl::StatusOr<uint64_t> late = producer->Publish(
      "node-instance-info", "late", cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE,
      absl::Seconds(5));
  {
    MutexLock lock(&mu);
    published = true;
  }
  EXPECT_EQ(late.status(), EndStatus());
  EXPECT_EQ(producer->Close(absl::Seconds(30)), EndStatus());
  EXPECT_EQ(producer->outstanding(), 0u);

  MutexLock lock(&mu);
  ASSERT_EQ(acks.size(), 1u);  // only the outstanding message, acked once
  EXPECT_THAT(acks[*first], ElementsAre(EndStatus()));
}

// A producer without on_ack, connected to a scripted cloudlinkd (peer_).
class ScriptedSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = dir_.Join("publish.sock");
    const int listener = Listen(path);
    ASSERT_GE(listener, 0) << strerror(errno);
    producer_ = Producer::OpenSocket(path, ProducerOptions());
    peer_ = std::make_unique<ScriptedPeer>(
        accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    close(listener);
    ASSERT_GE(peer_->fd(), 0) << strerror(errno);
  }

  testing::TempDir dir_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<ScriptedPeer> peer_;
};

// Without on_ack, a producer publishing one message at a time reads each
// ack itself: TakeAcks and outstanding() see an ack as soon as it is in the
// socket, and the library's reading thread is not woken per ack (it was, 20
// times for 20 messages, before).
TEST_F(ScriptedSocketTest, WithoutOnAckTheCallsReadTheAcksAndNoThreadWakes) {
  absl::StatusOr<uint64_t> first =
      producer_->Publish("node-instance-info", "0");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_THAT(peer_->NextRequestIds(), ElementsAre(*first));
  peer_->AckOk({*first});
  EXPECT_EQ(producer_->outstanding(), 0u);  // read by the call itself
  const int64_t before = testing::ThreadSwitches(getpid(), "producer-read");
  ASSERT_GE(before, 0) << "no thread named producer-read";

  constexpr int kMessages = 20;
  for (int i = 0; i < kMessages; ++i) {
    absl::StatusOr<uint64_t> id =
        producer_->Publish("node-instance-info", absl::StrCat(i));
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_THAT(peer_->NextRequestIds(), ElementsAre(*id));
    peer_->AckOk({*id});
    EXPECT_EQ(producer_->outstanding(), 0u) << "message " << i;
  }
  const int64_t after = testing::ThreadSwitches(getpid(), "producer-read");
  std::vector<ProducerAck> acks = producer_->TakeAcks();
  EXPECT_EQ(acks.size(), kMessages + 1u);
  for (const ProducerAck& ack : acks) EXPECT_TRUE(ack.status.ok()) << ack.id;
  EXPECT_LE(after - before, 2) << "the reading thread woke for the acks";
  RecordProperty("reader_switches", static_cast<int>(after - before));
}

// A message held back because cloudlinkd had not read the ones before goes
// out once their acks come, with no further call: the reading thread reads
// while messages wait for their write. (Messages are held back only while
// 4 written ones await their acks: a few at a time are written at once.)
TEST_F(ScriptedSocketTest, AHeldBackMessageIsWrittenWithoutAnotherCall) {
  // Nothing read yet: four go at once, the fifth waits for acks.
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint64_t> id =
        producer_->Publish("node-instance-info", absl::StrCat(i));
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
  }
  std::vector<uint64_t> written;
  for (int i = 0; i < 4; ++i) {
    std::vector<uint64_t> request = peer_->NextRequestIds();
    ASSERT_EQ(request.size(), 1u) << "each of the first four on its own";
    written.push_back(request[0]);
  }
  EXPECT_EQ(written, std::vector<uint64_t>(ids.begin(), ids.begin() + 4));
  peer_->AckOk(written);
  ASSERT_THAT(peer_->NextRequestIds(), ElementsAre(ids[4]));
  peer_->AckOk({ids[4]});
  EXPECT_EQ(producer_->outstanding(), 0u);
  SendEnd(peer_->fd());
  shutdown(peer_->fd(), SHUT_WR);
  EXPECT_EQ(producer_->Close(absl::Seconds(30)), EndStatus());
}

// Messages published after one was held back wait with it, even once
// cloudlinkd has caught up: they go out together in one write when acks
// come, not in a write (or a look at the socket) per message.
TEST_F(ScriptedSocketTest, MessagesAfterAHeldBackOneWaitWithIt) {
  std::vector<uint64_t> ids;
  auto publish = [&](int i) {
    absl::StatusOr<uint64_t> id =
        producer_->Publish("node-instance-info", absl::StrCat(i));
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
  };
  for (int i = 0; i < 5; ++i) publish(i);  // four written, the fifth held
  std::vector<uint64_t> written;
  for (int i = 0; i < 4; ++i) {
    std::vector<uint64_t> request = peer_->NextRequestIds();
    ASSERT_EQ(request.size(), 1u);
    written.push_back(request[0]);
  }
  // cloudlinkd has read everything written; the sixth still waits.
  publish(5);
  pollfd p{peer_->fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "written before any ack came";
  peer_->AckOk(written);
  EXPECT_THAT(peer_->NextRequestIds(), ElementsAre(ids[4], ids[5]));
  peer_->AckOk({ids[4], ids[5]});
  EXPECT_EQ(producer_->outstanding(), 0u);
  SendEnd(peer_->fd());
  shutdown(peer_->fd(), SHUT_WR);
  EXPECT_EQ(producer_->Close(absl::Seconds(30)), EndStatus());
}

// Without on_ack and with no call in progress, cloudlinkd's end is seen by
// the next call: Publish returns the stream's status and the outstanding
// message is acked with it.
TEST_F(ScriptedSocketTest, WithoutOnAckTheNextCallSeesTheEnd) {
  absl::StatusOr<uint64_t> first =
      producer_->Publish("node-instance-info", "1");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_THAT(peer_->NextRequestIds(), ElementsAre(*first));
  SendEnd(peer_->fd());
  shutdown(peer_->fd(), SHUT_WR);

  absl::StatusOr<uint64_t> late = producer_->Publish("node-instance-info", "2");
  EXPECT_EQ(late.status(), EndStatus());
  std::vector<ProducerAck> acks = producer_->TakeAcks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].id, *first);
  EXPECT_EQ(acks[0].status, EndStatus());
  EXPECT_EQ(producer_->Close(absl::Seconds(30)), EndStatus());
}

}  // namespace
}  // namespace cloudlink::client

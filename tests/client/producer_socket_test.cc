// The producer library's publish socket stream (client/producer_socket.cc)
// against a scripted cloudlinkd on a Unix socket of the test's own: how the
// producer sees the stream end.

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
#include "absl/time/time.h"
#include "client/producer.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/mutex.h"
#include "server/publish_socket/frame.h"
#include "tests/testing/test_env.h"

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

}  // namespace
}  // namespace cloudlink::client

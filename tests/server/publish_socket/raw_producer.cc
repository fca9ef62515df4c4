#include "tests/server/publish_socket/raw_producer.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <utility>

namespace cloudlink::publish_socket {

using cloudlink::v1::PublishSocketReply;

RawProducer::RawProducer(int fd, absl::Duration read_bound)
    : fd_(fd), connected_(fd >= 0) {
  if (fd_ < 0) return;
  const timeval bound = absl::ToTimeval(read_bound);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
}

RawProducer RawProducer::Connect(const std::string& path,
                                 absl::Duration read_bound) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const bool fits = path.size() < sizeof(addr.sun_path);
  if (fits) memcpy(addr.sun_path, path.data(), path.size());
  if (fd >= 0 && (!fits || connect(fd, reinterpret_cast<sockaddr*>(&addr),
                                   sizeof(addr)) != 0)) {
    close(fd);
    return RawProducer(-1, read_bound);
  }
  return RawProducer(fd, read_bound);
}

RawProducer::RawProducer(RawProducer&& other)
    : fd_(std::exchange(other.fd_, -1)),
      connected_(std::exchange(other.connected_, false)),
      reader_(std::move(other.reader_)) {}

RawProducer::~RawProducer() { Close(); }

void RawProducer::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawProducer::Write(const std::string& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n =
        send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

bool RawProducer::Send(const google::protobuf::MessageLite& message) {
  std::string bytes;
  AppendFrame(message, &bytes);
  return Write(bytes);
}

bool RawProducer::Hello(absl::Duration timeout) {
  cloudlink::v1::PublishSocketHello hello;
  hello.set_version(1);
  if (timeout > absl::ZeroDuration()) {
    hello.mutable_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
  }
  return Send(hello);
}

absl::optional<PublishSocketReply> RawProducer::Reply() {
  while (true) {
    absl::StatusOr<absl::optional<absl::string_view>> frame = reader_.Next();
    if (!frame.ok()) return absl::nullopt;
    if (frame->has_value()) {
      PublishSocketReply reply;
      if (!reply.ParseFromArray((*frame)->data(),
                                static_cast<int>((*frame)->size()))) {
        return absl::nullopt;
      }
      return reply;
    }
    char* to = reader_.Reserve(65536);
    const ssize_t n = recv(fd_, to, 65536, 0);
    reader_.Commit(n > 0 ? static_cast<size_t>(n) : 0);
    if (n <= 0) return absl::nullopt;
  }
}

absl::optional<PublishSocketReply> RawProducer::End() {
  while (absl::optional<PublishSocketReply> reply = Reply()) {
    if (reply->has_end()) return reply;
  }
  return absl::nullopt;
}

}  // namespace cloudlink::publish_socket

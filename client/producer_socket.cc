// Producer over cloudlinkd's publish socket (producer.h, OpenSocket): the
// publishing thread writes its frame itself (blocking; one write carries
// every message gathered while another thread was writing), and one
// reading thread takes the acks and the end.

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/ack_book.h"
#include "client/producer.h"
#include "client/producer_stream.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/publish_socket/frame.h"

namespace cloudlink::client {
namespace {

using cloudlink::v1::PublishRequest;
using cloudlink::v1::PublishSocketReply;

constexpr size_t kReadChunk = 64 * 1024;

absl::Status Ended() {
  return absl::UnavailableError(
      "the publish socket stream ended before this message was acknowledged");
}

// Writes all of `bytes` to the blocking socket `fd`.
bool WriteAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n =
        send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

class SocketStream final : public Producer::Stream {
 public:
  SocketStream(const std::string& path, ProducerOptions options,
               std::function<void(const ProducerAck&)> on_ack)
      : path_(path),
        options_(options),
        on_ack_(std::move(on_ack)),
        book_(options.window,
              on_ack_ ? AckBook::Delivery::kReturn : AckBook::Delivery::kTake) {
    absl::Status connected = Connect();
    if (!connected.ok()) {
      MutexLock lock(&mu_);
      final_status_ = connected;
      done_ = true;
      return;
    }
    reader_ = std::thread([this] { ReadLoop(); });
  }

  ~SocketStream() override {
    if (fd_ >= 0) {
      bool done;
      {
        MutexLock lock(&mu_);
        done = done_;
      }
      if (!done) shutdown(fd_, SHUT_RDWR);
    }
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
  }

  absl::StatusOr<uint64_t> Publish(std::string topic, std::string payload,
                                   cloudlink::v1::DeliveryLevel level,
                                   absl::Duration timeout) override {
    MutexLock lock(&mu_);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || closing_;
    };
    const absl::Status room = book_.AwaitRoom(&mu_, stop, timeout);
    if (!room.ok()) return room;
    if (closing_)
      return absl::FailedPreconditionError("the producer is closed");
    // Ended also while the reading thread hands out the failures of what
    // was outstanding (done_ is not yet set): an id added then would never
    // be acked.
    if (done_ || book_.ended()) {
      return final_status_.ok() ? Ended() : final_status_;
    }
    const uint64_t id = book_.Add();
    AddPending(options_, id, std::move(topic), std::move(payload), level,
               &pending_, &pending_bytes_);
    // Written now unless another thread is writing (it takes this along)
    // or cloudlinkd has not yet read what was written before: then the
    // next write carries this too, made by the next Publish that finds
    // cloudlinkd caught up, or by the reading thread when acks come. A
    // steady producer so writes each message at once, and a fast one
    // writes batches instead of one write per message. Only while acks are
    // due for messages already written: they wake the reading thread.
    const bool acks_due =
        book_.outstanding() > static_cast<size_t>(pending_.batch_size());
    if (!writing_ && (!acks_due || PeerCaughtUp())) WriteLocked();
    return id;
  }

  std::vector<ProducerAck> TakeAcks() override {
    MutexLock lock(&mu_);
    return book_.Take();
  }

  size_t outstanding() const override {
    MutexLock lock(&mu_);
    return book_.outstanding();
  }

  absl::Status Close(absl::Duration timeout) override {
    const MonotonicTime until = RealClock()->MonotonicNow() + timeout;
    MutexLock lock(&mu_);
    if (closing_)
      return absl::FailedPreconditionError("the producer is closed");
    auto acked = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || (book_.outstanding() == 0 && !writing_);
    };
    const bool all = mu_.AwaitWithDeadline(acked, until);
    closing_ = true;
    if (!all) {
      Cancel(absl::CancelledError(absl::StrCat(
          "the producer was closed with this message unacknowledged after ",
          absl::FormatDuration(timeout))));
      return absl::DeadlineExceededError(absl::StrCat(
          "acks were still missing after ", absl::FormatDuration(timeout)));
    }
    if (!done_) {
      // Nothing more to send: cloudlinkd answers with the end frame.
      shutdown(fd_, SHUT_WR);
      if (!mu_.AwaitWithDeadline(&done_, until)) {
        Cancel(absl::DeadlineExceededError(
            "cloudlinkd did not end the stream in time"));
        return absl::DeadlineExceededError(
            absl::StrCat("cloudlinkd did not end the publish socket stream "
                         "within ",
                         absl::FormatDuration(timeout)));
      }
    }
    return final_status_;
  }

 private:
  absl::Status Connect() {
    sockaddr_un addr{};
    if (path_.size() >= sizeof(addr.sun_path)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the publish socket path ", path_, " is too long"));
    }
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot make a socket: ", strerror(errno)));
    }
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path_.data(), path_.size());
    int rc;
    do {
      rc = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int error = errno;
      close(fd_);
      fd_ = -1;
      return absl::UnavailableError(absl::StrCat(
          "cannot connect to the publish socket ", path_, ": ", strerror(error),
          "; is cloudlinkd running (and not with --publish-socket=off)?"));
    }
    cloudlink::v1::PublishSocketHello hello;
    hello.set_version(1);
    if (options_.stream_timeout != absl::InfiniteDuration() &&
        options_.stream_timeout > absl::ZeroDuration()) {
      const int64_t nanos = absl::ToInt64Nanoseconds(options_.stream_timeout);
      hello.mutable_timeout()->set_seconds(nanos / 1000000000);
      hello.mutable_timeout()->set_nanos(
          static_cast<int32_t>(nanos % 1000000000));
    }
    std::string frame;
    publish_socket::AppendFrame(hello, &frame);
    if (!WriteAll(fd_, frame)) {
      // cloudlinkd may have refused the caller and closed already: its end
      // frame, waiting to be read, says why (the reading thread reads it).
      const int error = errno;
      MutexLock lock(&mu_);
      write_failed_ = true;
      write_error_ = absl::UnavailableError(absl::StrCat(
          "cannot write to the publish socket ", path_, ": ", strerror(error)));
      shutdown(fd_, SHUT_WR);
    }
    return absl::OkStatus();
  }

  // True when cloudlinkd has read everything written to it (the socket's
  // send queue is empty), or when that cannot be told.
  bool PeerCaughtUp() const {
    int queued = 0;
    return ioctl(fd_, SIOCOUTQ, &queued) != 0 || queued == 0;
  }

  // Writes pending_ until it is empty; other threads add to it meanwhile.
  // Stops once the stream ended: what is still pending was failed then.
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    PublishRequest batch;
    std::string frame;
    while (pending_.batch_size() > 0 && !done_ && !book_.ended() &&
           !write_failed_) {
      TakeBatch(options_, &pending_, &pending_bytes_, &batch);
      mu_.Unlock();
      frame.clear();
      publish_socket::AppendFrame(batch, &frame);
      const bool written = WriteAll(fd_, frame);
      const int error = errno;
      mu_.Lock();
      if (!written) {
        // The reading thread sees the end and fails what is outstanding.
        write_failed_ = true;
        write_error_ = absl::UnavailableError(
            absl::StrCat("writing to the publish socket ", path_,
                         " failed: ", strerror(error)));
        // What cloudlinkd sent before it closed (an end frame) is still
        // read; the reading thread then fails what is outstanding.
        shutdown(fd_, SHUT_WR);
      }
    }
    writing_ = false;
  }

  // Ends the stream now: outstanding messages are acked with `each`.
  void Cancel(absl::Status each) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!done_) {
      cancel_status_ = std::move(each);
      shutdown(fd_, SHUT_RDWR);
      mu_.Await(&done_);
    }
  }

  void ReadLoop() {
    publish_socket::FrameReader reader;
    absl::Status end;  // from the end frame
    bool end_seen = false;
    absl::Status broken;  // the stream broke before an end frame
    while (true) {
      char* to = reader.Reserve(kReadChunk);
      const ssize_t n = recv(fd_, to, kReadChunk, 0);
      if (n < 0) {
        reader.Commit(0);
        if (errno == EINTR) continue;
        broken = absl::UnavailableError(absl::StrCat(
            "reading the publish socket failed: ", strerror(errno)));
        break;
      }
      reader.Commit(static_cast<size_t>(n));
      if (n == 0) break;
      bool stop = false;
      while (!stop) {
        absl::StatusOr<absl::optional<absl::string_view>> frame = reader.Next();
        if (!frame.ok()) {
          broken = frame.status();
          stop = true;
          break;
        }
        if (!frame->has_value()) break;
        PublishSocketReply reply;
        if (!reply.ParseFromArray((*frame)->data(),
                                  static_cast<int>((*frame)->size()))) {
          broken = absl::InternalError(
              "cloudlinkd sent a frame that is not a PublishSocketReply");
          stop = true;
          break;
        }
        if (reply.has_end()) {
          end = absl::Status(static_cast<absl::StatusCode>(reply.end().code()),
                             reply.end().message());
          end_seen = true;
        } else if (reply.has_ack() && !end_seen) {
          Deliver(AcksOf(reply.ack()));
        }
      }
      if (stop) break;
      // Messages gathered while cloudlinkd was busy go now.
      MutexLock lock(&mu_);
      if (!writing_ && pending_.batch_size() > 0) WriteLocked();
    }
    std::vector<ProducerAck> failed;
    {
      MutexLock lock(&mu_);
      if (end_seen) {
        final_status_ = end;
      } else if (!cancel_status_.ok()) {
        final_status_ = cancel_status_;
      } else if (write_failed_) {
        final_status_ = write_error_;
      } else if (!broken.ok()) {
        final_status_ = broken;
      } else {
        final_status_ = absl::UnavailableError(
            "cloudlinkd closed the publish socket without ending the stream");
      }
      const absl::Status each = !cancel_status_.ok() ? cancel_status_
                                : final_status_.ok() ? Ended()
                                                     : final_status_;
      failed = book_.End(each);
    }
    for (const ProducerAck& ack : failed) on_ack_(ack);
    MutexLock lock(&mu_);
    done_ = true;
  }

  // Hands `acks` to on_ack or to TakeAcks(), and frees their window.
  void Deliver(std::vector<ProducerAck> acks) {
    {
      MutexLock lock(&mu_);
      acks = book_.Settle(std::move(acks));
    }
    for (const ProducerAck& ack : acks) on_ack_(ack);
  }

  const std::string path_;
  const ProducerOptions options_;
  const std::function<void(const ProducerAck&)> on_ack_;
  int fd_ = -1;
  std::thread reader_;

  mutable Mutex mu_;
  PublishRequest pending_ ABSL_GUARDED_BY(mu_);  // batch being gathered
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  AckBook book_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status cancel_status_ ABSL_GUARDED_BY(mu_);
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Producer> Producer::OpenSocket(
    const std::string& path, ProducerOptions options,
    std::function<void(const ProducerAck&)> on_ack) {
  return std::unique_ptr<Producer>(new Producer(
      std::make_unique<SocketStream>(path, options, std::move(on_ack))));
}

}  // namespace cloudlink::client

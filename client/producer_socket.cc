// Producer over cloudlinkd's publish socket (producer.h, OpenSocket): the
// publishing thread writes its frame itself (blocking; one write carries
// every message gathered while another thread was writing).
//
// Reading the acks and the end: one thread at a time holds the read side
// (reading_). With an on_ack callback that is always the reading thread,
// blocked in recv(), so acks reach the callback as they come. Without one
// (TakeAcks), the calls read what has arrived themselves, without blocking
// (Publish, TakeAcks, outstanding), and the reading thread blocks in recv()
// only while someone needs an ack to come: a Publish waiting for room, a
// Close, messages held back for the next write, or the stream's end. A
// steady producer so costs no thread wake-up per ack.

#include <linux/sockios.h>
#include <pthread.h>
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
// Messages are held back for a batch only while this many written ones
// await their acks: holding one back costs a thread wake-up (the reading
// thread writes it), writing it at once one more write. From this many on,
// the producer is a fast one and the reading thread reads the acks as they
// come (the calls would otherwise spend a read each on them).
constexpr size_t kHoldBackInFlight = 4;
// The reading thread's name (producer.h).
constexpr char kReaderName[] = "producer-read";

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
    pthread_setname_np(reader_.native_handle(), kReaderName);
  }

  ~SocketStream() override {
    if (fd_ >= 0) {
      MutexLock lock(&mu_);
      if (!done_) {
        destroying_ = true;  // the reading thread reads on to the end
        shutdown(fd_, SHUT_RDWR);
      }
    }
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) close(fd_);
  }

  absl::StatusOr<uint64_t> Publish(std::string topic, std::string payload,
                                   cloudlink::v1::DeliveryLevel level,
                                   absl::Duration timeout) override {
    MutexLock lock(&mu_);
    DrainLocked();
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ || closing_;
    };
    ++room_waiters_;  // the reading thread reads while the window is full
    const absl::Status room = book_.AwaitRoom(&mu_, stop, timeout);
    --room_waiters_;
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
    const bool first_held_back = pending_.batch_size() == 0;
    AddPending(options_, id, std::move(topic), std::move(payload), level,
               &pending_, &pending_bytes_);
    // Written now unless another thread is writing (it takes this along)
    // or cloudlinkd has not yet read what was written before (asked only
    // while kHoldBackInFlight written messages await their acks, and only
    // for the first message held back: the ones after it wait with it).
    // Then the next write carries this too: made by the next Publish that
    // finds cloudlinkd caught up, or by the reading thread once acks come
    // (held-back messages make it read: ReaderNeeded). A steady producer
    // so writes each message at once, even a few at a time, and a fast one
    // writes batches instead of one write (or one look at the socket) per
    // message.
    if (!writing_ && (InFlight() < kHoldBackInFlight ||
                      (first_held_back && PeerCaughtUp()))) {
      WriteLocked();
    }
    return id;
  }

  std::vector<ProducerAck> TakeAcks() override {
    MutexLock lock(&mu_);
    DrainLocked();
    return book_.Take();
  }

  size_t outstanding() override {
    MutexLock lock(&mu_);
    DrainLocked();
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
    close_waiting_ = true;  // the reading thread reads on to the end
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

  // Whether the reading thread must block in recv(): something waits for
  // what cloudlinkd sends. Otherwise (no on_ack) acks wait in the socket
  // until a call reads them (DrainLocked).
  bool ReaderNeeded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return on_ack_ || room_waiters_ > 0 || close_waiting_ || destroying_ ||
           !cancel_status_.ok() || write_failed_ ||
           (!writing_ && pending_.batch_size() > 0) ||
           InFlight() >= kHoldBackInFlight;  // a fast producer: acks stream
  }

  // Messages written and not yet acknowledged. (Once the stream ended the
  // book holds none, while messages may still be pending.)
  size_t InFlight() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const size_t pending = static_cast<size_t>(pending_.batch_size());
    return book_.outstanding() > pending ? book_.outstanding() - pending : 0;
  }

  void ReadLoop() {
    MutexLock lock(&mu_);
    while (true) {
      mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return done_ || (!reading_ && ReaderNeeded());
      });
      if (done_) return;
      reading_ = true;
      mu_.Unlock();
      Received got = Receive(/*block=*/true);
      mu_.Lock();
      Absorb(std::move(got));
      // Messages gathered while cloudlinkd was busy go now.
      if (!done_ && !writing_ && pending_.batch_size() > 0) WriteLocked();
    }
  }

  // Without on_ack: takes the acks (and the end) that have arrived, without
  // blocking, unless another thread is reading or no ack can be due (every
  // outstanding message is still pending: no system call then).
  void DrainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (on_ack_ || reading_ || done_ || InFlight() == 0) return;
    reading_ = true;
    mu_.Unlock();
    Received got;
    while (true) {
      Received more = Receive(/*block=*/false);
      got.acks.insert(got.acks.end(), more.acks.begin(), more.acks.end());
      got.ended = more.ended;
      if (more.ended || !more.full) break;
    }
    mu_.Lock();
    Absorb(std::move(got));
  }

  // What one recv() brought.
  struct Received {
    std::vector<ProducerAck> acks;
    bool full = false;   // the read filled its buffer: more may be waiting
    bool ended = false;  // the stream is over (closed, broken)
  };

  // One recv() and the frames it completes. Only by the thread that set
  // reading_, without mu_.
  Received Receive(bool block) {
    Received got;
    char* to = frames_.Reserve(kReadChunk);
    ssize_t n;
    do {
      n = recv(fd_, to, kReadChunk, block ? 0 : MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int error = errno;
      frames_.Commit(0);
      if (error == EAGAIN || error == EWOULDBLOCK) return got;
      broken_ = absl::UnavailableError(
          absl::StrCat("reading the publish socket failed: ", strerror(error)));
      got.ended = true;
      return got;
    }
    frames_.Commit(static_cast<size_t>(n));
    got.full = static_cast<size_t>(n) == kReadChunk;
    if (n == 0) {
      got.ended = true;
      return got;
    }
    while (true) {
      absl::StatusOr<absl::optional<absl::string_view>> frame = frames_.Next();
      if (!frame.ok()) {
        broken_ = frame.status();
        got.ended = true;
        return got;
      }
      if (!frame->has_value()) return got;
      PublishSocketReply reply;
      if (!reply.ParseFromArray((*frame)->data(),
                                static_cast<int>((*frame)->size()))) {
        broken_ = absl::InternalError(
            "cloudlinkd sent a frame that is not a PublishSocketReply");
        got.ended = true;
        return got;
      }
      if (reply.has_end()) {
        // The stream is over; cloudlinkd closes the socket after it.
        end_ = absl::Status(static_cast<absl::StatusCode>(reply.end().code()),
                            reply.end().message());
        end_seen_ = true;
        got.ended = true;
        return got;
      }
      if (reply.has_ack()) {
        std::vector<ProducerAck> acks = AcksOf(reply.ack());
        got.acks.insert(got.acks.end(), acks.begin(), acks.end());
      }
    }
  }

  // Settles what `got` brought (on_ack is called with mu_ released) and,
  // when the stream is over, fails what is outstanding and marks it done.
  // Gives up the read side (reading_).
  void Absorb(Received got) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<ProducerAck> out = book_.Settle(std::move(got.acks));
    if (got.ended) {
      if (end_seen_) {
        final_status_ = end_;
      } else if (!cancel_status_.ok()) {
        final_status_ = cancel_status_;
      } else if (write_failed_) {
        final_status_ = write_error_;
      } else if (!broken_.ok()) {
        final_status_ = broken_;
      } else {
        final_status_ = absl::UnavailableError(
            "cloudlinkd closed the publish socket without ending the stream");
      }
      const absl::Status each = !cancel_status_.ok() ? cancel_status_
                                : final_status_.ok() ? Ended()
                                                     : final_status_;
      std::vector<ProducerAck> failed = book_.End(each);
      out.insert(out.end(), failed.begin(), failed.end());
    }
    if (!out.empty()) {
      // Ended, but not yet done while the failures are handed out:
      // Publish refuses meanwhile (book_.ended()), and Close() returns
      // after on_ack has seen every failure.
      mu_.Unlock();
      for (const ProducerAck& ack : out) on_ack_(ack);
      mu_.Lock();
    }
    if (got.ended) done_ = true;
    reading_ = false;
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
  // Who needs the reading thread (ReaderNeeded).
  int room_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  bool close_waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool destroying_ ABSL_GUARDED_BY(mu_) = false;
  // A thread is reading: it alone uses the read side below, without mu_.
  bool reading_ ABSL_GUARDED_BY(mu_) = false;

  // The read side (the thread that set reading_).
  publish_socket::FrameReader frames_;
  absl::Status end_;  // from the end frame
  bool end_seen_ = false;
  absl::Status broken_;  // the stream broke before an end frame
};

}  // namespace

std::unique_ptr<Producer> Producer::OpenSocket(
    const std::string& path, ProducerOptions options,
    std::function<void(const ProducerAck&)> on_ack) {
  return std::unique_ptr<Producer>(new Producer(
      std::make_unique<SocketStream>(path, options, std::move(on_ack))));
}

}  // namespace cloudlink::client

#include "server/publish_socket/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/common/error.h"

namespace cloudlink::publish_socket {
namespace {

using cloudlink::v1::PublishRequest;
using cloudlink::v1::PublishSocketReply;

// Outcome::tag values: how the message came, so how it is answered.
constexpr uint32_t kSingle = 0;
constexpr uint32_t kBatched = 1;

// Bytes read per recv(); a batch ack is cut into frames of about this many
// bytes at most, so the producer's reader never meets a frame near the
// limit.
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kBatchAckBytes = 1 << 20;

absl::Status Malformed(absl::string_view what) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kRequestMalformed,
               what);
}

}  // namespace

Connection::Connection(
    int fd, const ConnectionContext* context,
    std::function<void(std::shared_ptr<Connection>)> attention)
    : fd_(fd), context_(context), attention_(std::move(attention)) {}

Connection::~Connection() { close(fd_); }

MonotonicTime Connection::deadline() const {
  MutexLock lock(&mu_);
  return ended_ ? MonotonicTime::InfiniteFuture() : deadline_;
}

absl::optional<uint32_t> Connection::Service(uint32_t events) {
  {
    MutexLock lock(&mu_);
    attention_asked_ = false;
    if ((events & EPOLLERR) != 0) broken_ = true;
    if ((events & EPOLLOUT) != 0) {
      write_blocked_ = false;
      FlushLocked();
    }
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0) ReadSome();
  MutexLock lock(&mu_);
  if ((events & EPOLLHUP) != 0) {
    // The producer closed both ways: no ack can reach it. What it sent and
    // was read stays accepted; what it sent while this connection was not
    // reading (a wait for room, the ack backlog) is dropped unread.
    broken_ = true;
  }
  if (!ended_ && context_->clock->MonotonicNow() >= deadline_) {
    EndLocked(absl::DeadlineExceededError(
        "the publish socket stream's timeout (PublishSocketHello.timeout) "
        "passed"));
  }
  if (!ended_ && reading_done_ && outstanding_ == 0 && !waiting_) {
    EndLocked(final_status_);  // everything asked was answered
  }
  if (paused_ && unsent_acks_ <= context_->limits.max_ack_backlog / 2) {
    paused_ = false;
  }
  FlushLocked();
  if (broken_) return absl::nullopt;
  if (ended_ && (out_sent_ == out_.size() || !final_status_.ok())) {
    // Done; an error end does not wait for a peer that does not read.
    return absl::nullopt;
  }
  uint32_t wanted = 0;
  if (!reading_done_ && !paused_ && !waiting_) wanted |= EPOLLIN | EPOLLRDHUP;
  if (write_blocked_) wanted |= EPOLLOUT;
  return wanted;
}

void Connection::End(const absl::Status& status) {
  MutexLock lock(&mu_);
  EndLocked(status);
  FlushLocked();
}

void Connection::Close() {
  MutexLock lock(&mu_);
  closed_ = true;
  ended_ = true;
  shutdown(fd_, SHUT_RDWR);
}

void Connection::ReadSome() {
  size_t total = 0;
  while (total < context_->limits.max_read_per_turn) {
    {
      MutexLock lock(&mu_);
      if (reading_done_ || paused_ || waiting_ || ended_ || broken_) return;
    }
    char* to = reader_.Reserve(kReadChunk);
    const ssize_t n = recv(fd_, to, kReadChunk, 0);
    if (n < 0) {
      reader_.Commit(0);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      MutexLock lock(&mu_);
      broken_ = true;
      return;
    }
    reader_.Commit(static_cast<size_t>(n));
    if (n == 0) {
      // The producer half-closed: the stream ends once everything is acked.
      MutexLock lock(&mu_);
      reading_done_ = true;
      if (reader_.buffered() > 0 && final_status_.ok()) {
        final_status_ =
            Malformed(absl::StrCat("the stream ended inside a frame (",
                                   reader_.buffered(), " bytes of it came)"));
      }
      return;
    }
    total += static_cast<size_t>(n);
    // A short read took all there was: epoll says when more comes, so no
    // second recv() just to hear EAGAIN (one syscall less per message at a
    // steady rate).
    const bool drained = static_cast<size_t>(n) < kReadChunk;
    while (true) {
      absl::StatusOr<absl::optional<absl::string_view>> frame = reader_.Next();
      if (!frame.ok()) {
        MutexLock lock(&mu_);
        reading_done_ = true;
        final_status_ = frame.status();
        return;
      }
      if (!frame->has_value()) break;
      if (!HandleFrame(**frame)) return;
    }
    if (drained) return;
  }
}

bool Connection::HandleFrame(absl::string_view body) {
  if (!hello_seen_) {
    cloudlink::v1::PublishSocketHello hello;
    if (!hello.ParseFromArray(body.data(), static_cast<int>(body.size())) ||
        hello.version() != 1) {
      MutexLock lock(&mu_);
      reading_done_ = true;
      final_status_ = Malformed(
          "the first frame must be a PublishSocketHello with version 1 (is "
          "this client for the publish socket?)");
      return false;
    }
    hello_seen_ = true;
    const absl::Duration timeout = absl::Seconds(hello.timeout().seconds()) +
                                   absl::Nanoseconds(hello.timeout().nanos());
    if (timeout > absl::ZeroDuration()) {
      MutexLock lock(&mu_);
      deadline_ = context_->clock->MonotonicNow() + timeout;
    }
    return true;
  }
  PublishRequest request;
  if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    MutexLock lock(&mu_);
    reading_done_ = true;
    final_status_ = Malformed(
        "a frame is not a PublishRequest (a topic that is not valid UTF-8?)");
    return false;
  }
  HandleRequest(request);
  MutexLock lock(&mu_);
  return !waiting_;
}

void Connection::HandleRequest(PublishRequest& request) {
  requests_read_.fetch_add(1, std::memory_order_relaxed);
  const uint32_t tag = request.batch_size() > 0 ? kBatched : kSingle;
  MonotonicTime deadline;
  {
    MutexLock lock(&mu_);
    deadline = deadline_;
  }
  std::vector<api::PublishItem> items = api::ItemsOf(request);
  const size_t stopped = api::PublishItems(context_->publisher, items, 0, tag,
                                           /*may_wait=*/false, deadline, *this);
  if (stopped == items.size()) return;
  // The queue or spool is full and a message may wait for room: it and the
  // rest of the request go to a waiting thread; reading resumes after.
  requests_waited_.fetch_add(1, std::memory_order_relaxed);
  {
    MutexLock lock(&mu_);
    waiting_ = true;
  }
  auto held = std::make_shared<PublishRequest>(std::move(request));
  auto self = shared_from_this();
  auto finish = [self, held, stopped, tag, deadline](bool may_wait) {
    std::vector<api::PublishItem> rest = api::ItemsOf(*held);
    if (!may_wait) {
      for (api::PublishItem& item : rest) item.wait_when_full = false;
    }
    api::PublishItems(self->context_->publisher, rest, stopped, tag, may_wait,
                      deadline, *self);
    MutexLock lock(&self->mu_);
    self->waiting_ = false;
    self->AttendLocked(/*reading_resumes=*/true);
  };
  WaitingJobs* jobs = context_->waiting_jobs;
  if (jobs != nullptr) jobs->Started();
  if (!context_->wait_pool->Run([finish, jobs] {
        finish(true);
        if (jobs != nullptr) jobs->Ended();  // the last use of the context
      })) {
    // No thread to wait on: a full queue answers QUEUE_FULL / SPOOL_FULL.
    finish(false);
    if (jobs != nullptr) jobs->Ended();
  }
}

publish::Completion Connection::CompletionFor(uint64_t id, uint32_t tag) {
  return [self = shared_from_this(), id, tag](const absl::Status& outcome) {
    if (publish::CompletionBatch::Hold(self, {id, outcome, tag})) return;
    std::vector<publish::Outcome> one;
    one.push_back({id, outcome, tag});
    self->TakeOutcomes(one);
  };
}

void Connection::Accepting() {
  MutexLock lock(&mu_);
  ++outstanding_;
}

void Connection::Unaccept() {
  MutexLock lock(&mu_);
  --outstanding_;
}

void Connection::Refused(std::vector<publish::Outcome>& refused) {
  MutexLock lock(&mu_);
  AddOutcomesLocked(refused);
  FlushLocked();
  AttendLocked();
}

bool Connection::Over() const {
  if (context_->shutting_down != nullptr &&
      context_->shutting_down->load(std::memory_order_acquire)) {
    return true;
  }
  MutexLock lock(&mu_);
  return broken_ || ended_;
}

void Connection::TakeOutcomes(std::vector<publish::Outcome>& outcomes) {
  MutexLock lock(&mu_);
  outstanding_ -= outcomes.size();
  AddOutcomesLocked(outcomes);
  FlushLocked();
  AttendLocked();
}

void Connection::AddOutcomesLocked(std::vector<publish::Outcome>& outcomes) {
  if (ended_ || broken_) return;  // the stream is over: dropped
  PublishSocketReply batch;
  size_t batch_bytes = 0;
  auto flush_batch = [&] {
    if (batch_bytes == 0) return;
    AppendFrame(batch, &out_);
    batch.Clear();
    batch_bytes = 0;
  };
  for (publish::Outcome& outcome : outcomes) {
    const absl::Status& status = outcome.status;
    if (outcome.tag == kSingle) {
      PublishSocketReply reply;
      cloudlink::v1::PublishAck* ack = reply.mutable_ack();
      ack->set_id(outcome.id);
      ack->set_code(static_cast<int32_t>(status.code()));
      if (!status.ok()) ack->set_message(std::string(status.message()));
      AppendFrame(reply, &out_);
    } else if (status.ok()) {
      batch.mutable_ack()->add_ok_ids(outcome.id);
      batch_bytes += 10;
    } else {
      cloudlink::v1::PublishFailure* failure =
          batch.mutable_ack()->add_failed();
      failure->set_id(outcome.id);
      failure->set_code(static_cast<int32_t>(status.code()));
      failure->set_message(std::string(status.message()));
      batch_bytes += 24 + status.message().size();
    }
    if (batch_bytes >= kBatchAckBytes) flush_batch();
  }
  flush_batch();
  unsent_acks_ += outcomes.size();
  if (unsent_acks_ > context_->limits.max_ack_backlog) paused_ = true;
}

void Connection::EndLocked(const absl::Status& status) {
  if (ended_) return;
  PublishSocketReply reply;
  reply.mutable_end()->set_code(static_cast<int32_t>(status.code()));
  if (!status.ok()) {
    reply.mutable_end()->set_message(std::string(status.message()));
  }
  if (!broken_) AppendFrame(reply, &out_);
  final_status_ = status;
  ended_ = true;
  reading_done_ = true;
}

void Connection::FlushLocked() {
  if (broken_ || write_blocked_ || closed_) return;
  while (out_sent_ < out_.size()) {
    const ssize_t n =
        send(fd_, out_.data() + out_sent_, out_.size() - out_sent_,
             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        write_blocked_ = true;
        if (out_sent_ >= kBatchAckBytes) {
          out_.erase(0, out_sent_);
          out_sent_ = 0;
        }
        return;
      }
      broken_ = true;  // the producer is gone
      return;
    }
    out_sent_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_sent_ = 0;
  unsent_acks_ = 0;
}

void Connection::AttendLocked(bool reading_resumes) {
  if (attention_asked_ || closed_) return;
  const bool needed =
      reading_resumes || write_blocked_ || broken_ ||
      (paused_ && unsent_acks_ <= context_->limits.max_ack_backlog / 2) ||
      (!waiting_ && reading_done_ && outstanding_ == 0) ||
      (ended_ && out_sent_ == out_.size());
  if (!needed) return;
  attention_asked_ = true;
  attention_(shared_from_this());
}

}  // namespace cloudlink::publish_socket

#include "server/api/publish_stream.h"

#include <chrono>
#include <deque>
#include <utility>
#include <vector>

#include "server/api/grpc_status.h"
#include "server/api/publish_items.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/publish/completion_batch.h"

namespace cloudlink::api {
namespace {

using cloudlink::v1::PublishAck;
using cloudlink::v1::PublishRequest;

// Outcome::tag values: how the message came, so how it is answered.
constexpr uint32_t kSingle = 0;
constexpr uint32_t kBatched = 1;

absl::Status ShuttingDown() {
  return Error(absl::StatusCode::kUnavailable, reason::kShuttingDown,
               "cloudlinkd is stopping");
}

}  // namespace

class PublishReactor;

// The state of one call, shared by its reactor (which gRPC deletes after
// OnDone), the completions of its messages (which may run after that) and
// a thread waiting for room.
//
// Rule for calling into the reactor: a thread that is about to call
// StartRead / StartWrite outside mu counts itself in `starting` under mu;
// Finish is called only when no such call is under way and no waiting
// thread runs, and once `finished` is set nothing else is started. So the
// reactor (deleted only after OnDone, which follows Finish) outlives every
// call into it.
struct PublishStreams::Stream final
    : public publish::OutcomeSink,
      public PublishItemsSink,
      public std::enable_shared_from_this<PublishStreams::Stream> {
  Stream(PublishStreams* owner, grpc::CallbackServerContext* context)
      : owner(owner) {
    // gRPC states the deadline in wall time; it becomes a monotonic one
    // here, once, so that a wall-clock step during the stream neither
    // stretches nor cuts the waits it bounds.
    const auto deadline = context->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      stream_deadline = RealClock()->MonotonicNow() +
                        (absl::FromChrono(deadline) - RealClock()->WallNow());
    }
  }

  // publish::OutcomeSink: the outcomes of one pass of the link thread.
  void TakeOutcomes(std::vector<publish::Outcome>& outcomes) override {
    StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      for (publish::Outcome& outcome : outcomes) {
        AddLocked(outcome.id, outcome.status, outcome.tag, true);
      }
    });
  }

  // PublishItemsSink.
  publish::Completion CompletionFor(uint64_t id, uint32_t tag) override {
    return [self = shared_from_this(), id, tag](const absl::Status& outcome) {
      if (publish::CompletionBatch::Hold(self, {id, outcome, tag})) return;
      self->StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu) {
        self->AddLocked(id, outcome, tag, true);
      });
    };
  }

  void AddLocked(uint64_t id, const absl::Status& status, uint32_t tag,
                 bool was_outstanding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (was_outstanding) --outstanding;
    if (dead) return;
    if (tag == kSingle) {
      PublishAck ack;
      ack.set_id(id);
      ack.set_code(static_cast<int32_t>(status.code()));
      if (!status.ok()) ack.set_message(std::string(status.message()));
      singles.push_back(std::move(ack));
    } else if (status.ok()) {
      ok_ids.push_back(id);
    } else {
      cloudlink::v1::PublishFailure failure;
      failure.set_id(id);
      failure.set_code(static_cast<int32_t>(status.code()));
      failure.set_message(std::string(status.message()));
      failed.push_back(std::move(failure));
    }
  }

  size_t BacklogLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return singles.size() + ok_ids.size() + failed.size();
  }

  // Runs `change` under mu, then starts what the new state calls for: the
  // next write, the next read, or the end of the call.
  template <typename Change>
  void StartOrFinish(Change change);

  void Accepting() override {
    MutexLock lock(&mu);
    ++outstanding;
  }
  void Unaccept() override {
    MutexLock lock(&mu);
    --outstanding;
  }
  void Refused(std::vector<publish::Outcome>& refused) override {
    MutexLock lock(&mu);
    for (publish::Outcome& outcome : refused) {
      AddLocked(outcome.id, outcome.status, outcome.tag, false);
    }
  }

  // Publishes items[first..] (publish_items.h); `may_wait`: on a thread
  // that may block for room.
  size_t Publish(std::vector<PublishItem>& items, size_t first, bool batched,
                 bool may_wait) {
    return PublishItems(owner->publisher_, items, first,
                        batched ? kBatched : kSingle, may_wait, stream_deadline,
                        *this);
  }
  // Publishes what read_buf holds; the stream then reads on (possibly from
  // a waiting thread).
  void OnRequest();

  // The call is over: the service stops tracking it.
  void Forget() {
    MutexLock lock(&owner->mu_);
    owner->open_.erase(shared_from_this());
  }

  bool Over() const override {
    return cancelled.load(std::memory_order_acquire) ||
           owner->shutting_down_.load(std::memory_order_acquire);
  }

  PublishStreams* const owner;
  MonotonicTime stream_deadline = MonotonicTime::InfiniteFuture();
  std::atomic<bool> cancelled{false};
  // Owned by whoever has the read (or write) under way.
  PublishRequest read_buf;
  PublishAck write_buf;

  Mutex mu;
  PublishReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;  // null after OnDone
  std::deque<PublishAck> singles ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> ok_ids ABSL_GUARDED_BY(mu);
  std::vector<cloudlink::v1::PublishFailure> failed ABSL_GUARDED_BY(mu);
  uint64_t outstanding ABSL_GUARDED_BY(mu) = 0;  // accepted, not completed
  int starting ABSL_GUARDED_BY(mu) = 0;  // calls into the reactor under way
  bool write_in_flight ABSL_GUARDED_BY(mu) = false;
  bool read_wanted ABSL_GUARDED_BY(mu) = false;  // start the next read
  bool read_paused ABSL_GUARDED_BY(mu) = false;  // the backlog is too long
  bool reading_done ABSL_GUARDED_BY(mu) = false;
  bool waiting ABSL_GUARDED_BY(mu) = false;  // a thread waits for room
  bool dead ABSL_GUARDED_BY(mu) = false;     // no more acks are written
  bool finish_wanted ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;
  grpc::Status finish_status ABSL_GUARDED_BY(mu);
};

class PublishReactor final : public PublishStreams::Reactor {
 public:
  PublishReactor(std::shared_ptr<PublishStreams::Stream> stream,
                 std::shared_ptr<void> held)
      : stream_(std::move(stream)), held_(std::move(held)) {}

  void OnReadDone(bool ok) override {
    if (!ok) {
      stream_->StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream_->mu) {
        stream_->reading_done = true;
      });
      return;
    }
    stream_->OnRequest();
  }

  void OnWriteDone(bool ok) override {
    stream_->StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream_->mu) {
      stream_->write_in_flight = false;
      if (!ok) {
        // The client is gone or its side is broken: nothing more can be
        // written, so the call ends (OK, as the stream has no error of its
        // own; a shutdown keeps its status).
        stream_->dead = true;
        stream_->finish_wanted = true;
      }
    });
  }

  void OnCancel() override {
    stream_->cancelled.store(true, std::memory_order_release);
    stream_->StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream_->mu) {
      stream_->dead = true;
      stream_->finish_wanted = true;
    });
  }

  void OnDone() override {
    {
      MutexLock lock(&stream_->mu);
      stream_->reactor = nullptr;
      stream_->singles.clear();
      stream_->ok_ids.clear();
      stream_->failed.clear();
    }
    stream_->Forget();
    delete this;
  }

 private:
  const std::shared_ptr<PublishStreams::Stream> stream_;
  const std::shared_ptr<void> held_;  // released with the reactor
};

// Runs a StartOrFinish change, which the caller runs under the stream's
// `mu`. The changes are annotated as needing `self->mu` or `stream_->mu`,
// which the analysis cannot tell is the `mu` held here.
namespace {
template <typename Change>
void RunChangeLocked(Change& change) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  change();
}
}  // namespace

template <typename Change>
void PublishStreams::Stream::StartOrFinish(Change change) {
  bool first = true;
  while (true) {
    bool write = false;
    bool read = false;
    bool finish = false;
    grpc::Status status;
    PublishReactor* r = nullptr;
    {
      MutexLock lock(&mu);
      if (first) {
        RunChangeLocked(change);
        first = false;
      } else {
        --starting;  // the calls of the previous round returned
      }
      r = reactor;
      if (r == nullptr || finished) return;
      if (!finish_wanted && reading_done && outstanding == 0 &&
          BacklogLocked() == 0 && !write_in_flight && !waiting) {
        finish_wanted = true;  // everything asked was answered
      }
      if (finish_wanted) {
        if (starting == 0 && !waiting &&
            (dead || (!write_in_flight && BacklogLocked() == 0))) {
          finished = true;
          finish = true;
          status = finish_status;
        }
      } else {
        if (!write_in_flight && !dead && BacklogLocked() > 0) {
          // One write carries everything queued: a single-message ack, or
          // one batch ack with every batched outcome (up to a bound).
          write_buf.Clear();
          if (!singles.empty()) {
            write_buf = std::move(singles.front());
            singles.pop_front();
          } else {
            const size_t limit = owner->limits_.max_acks_per_write;
            const size_t n_ok = std::min(ok_ids.size(), limit);
            write_buf.mutable_ok_ids()->Add(ok_ids.end() - n_ok, ok_ids.end());
            ok_ids.resize(ok_ids.size() - n_ok);
            const size_t n_failed = std::min(failed.size(), limit - n_ok);
            for (size_t i = failed.size() - n_failed; i < failed.size(); ++i) {
              *write_buf.add_failed() = std::move(failed[i]);
            }
            failed.resize(failed.size() - n_failed);
          }
          write_in_flight = true;
          write = true;
        }
        if (read_paused &&
            BacklogLocked() <= owner->limits_.max_ack_backlog / 2) {
          read_paused = false;
          read_wanted = true;
        }
        if (read_wanted && !reading_done && !waiting) {
          read_wanted = false;
          if (BacklogLocked() > owner->limits_.max_ack_backlog) {
            read_paused = true;  // flow control: the caller reads its acks
          } else {
            read = true;
          }
        }
      }
      if (!write && !read) {
        if (!finish) return;
      } else {
        ++starting;
      }
    }
    if (finish) {
      r->Finish(status);
      return;
    }
    if (write) r->StartWrite(&write_buf);
    if (read) r->StartRead(&read_buf);
    // Loop: take `starting` back and look again (an outcome may have come
    // while the calls ran, finding starting > 0).
  }
}

void PublishStreams::Stream::OnRequest() {
  owner->requests_read_.fetch_add(1, std::memory_order_relaxed);
  const bool batched = read_buf.batch_size() > 0;
  std::vector<PublishItem> items = ItemsOf(read_buf);
  const size_t stopped = Publish(items, 0, batched, /*may_wait=*/false);
  if (stopped < items.size()) {
    // The queue or spool is full and a message may wait for room: it and
    // the rest of the request go to a waiting thread, so that no gRPC
    // thread blocks; the stream reads on once that request is done.
    owner->requests_waited_.fetch_add(1, std::memory_order_relaxed);
    {
      MutexLock lock(&mu);
      waiting = true;
    }
    auto request = std::make_shared<PublishRequest>(std::move(read_buf));
    auto self = shared_from_this();
    auto finish_request = [self, request, stopped, batched] {
      std::vector<PublishItem> rest = ItemsOf(*request);
      self->Publish(rest, stopped, batched, /*may_wait=*/true);
      self->StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu) {
        self->waiting = false;
        self->read_wanted = true;
      });
    };
    if (!owner->wait_pool_.Run(finish_request)) {
      // No thread to wait on: publish here without waiting (a full queue
      // then answers QUEUE_FULL / SPOOL_FULL, as without wait_when_full).
      std::vector<PublishItem> rest = ItemsOf(*request);
      for (PublishItem& item : rest) item.wait_when_full = false;
      Publish(rest, stopped, batched, /*may_wait=*/false);
      StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        waiting = false;
        read_wanted = true;
      });
    }
    return;
  }
  StartOrFinish([&]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { read_wanted = true; });
}

PublishStreams::PublishStreams(publish::Publisher* publisher,
                               PublishStreamLimits limits)
    : publisher_(publisher), limits_(limits) {}

PublishStreams::~PublishStreams() = default;

PublishStreams::Reactor* PublishStreams::Start(
    grpc::CallbackServerContext* context, absl::Status refused,
    std::shared_ptr<void> held) {
  auto stream = std::make_shared<Stream>(this, context);
  auto* reactor = new PublishReactor(stream, std::move(held));
  if (refused.ok() && shutting_down_.load()) refused = ShuttingDown();
  {
    MutexLock lock(&stream->mu);
    stream->reactor = reactor;
    if (!refused.ok()) {
      stream->finish_wanted = true;
      stream->dead = true;
      stream->finish_status = ToGrpcStatus(refused);
    } else {
      stream->read_wanted = true;
    }
  }
  {
    MutexLock lock(&mu_);
    open_.insert(stream);
  }
  stream->StartOrFinish([] {});
  return reactor;
}

void PublishStreams::Shutdown() {
  shutting_down_.store(true);
  std::vector<std::shared_ptr<Stream>> streams;
  {
    MutexLock lock(&mu_);
    streams.assign(open_.begin(), open_.end());
  }
  for (const std::shared_ptr<Stream>& stream : streams) {
    stream->StartOrFinish([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->mu) {
      if (stream->finish_wanted) return;
      stream->dead = true;
      stream->finish_wanted = true;
      stream->finish_status = ToGrpcStatus(ShuttingDown());
    });
  }
}

size_t PublishStreams::open() const {
  MutexLock lock(&mu_);
  return open_.size();
}

}  // namespace cloudlink::api

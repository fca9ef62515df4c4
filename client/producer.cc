#include "client/producer.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/ack_book.h"
#include "client/producer_stream.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "server/api/grpc_status.h"
#include "server/common/mutex.h"

namespace cloudlink::client {
namespace {

using cloudlink::v1::PublishAck;
using cloudlink::v1::PublishRequest;

}  // namespace

// The stream, driven by gRPC's callback API: writes start on the thread
// that publishes (when none is in flight) or in OnWriteDone; reads run on
// gRPC's threads. Calls into the reactor are made without `mu_` held, since
// gRPC may run a reaction inline.
class GrpcStream final
    : public Producer::Stream,
      public grpc::ClientBidiReactor<PublishRequest, PublishAck> {
 public:
  GrpcStream(std::shared_ptr<grpc::Channel> channel, ProducerOptions options,
             std::function<void(const ProducerAck&)> on_ack)
      : stub_(cloudlink::v1::CloudLink::NewStub(std::move(channel))),
        options_(options),
        on_ack_(std::move(on_ack)),
        book_(options.window,
              on_ack_ ? AckBook::Delivery::kReturn : AckBook::Delivery::kTake) {
    if (options_.stream_timeout != absl::InfiniteDuration()) {
      context_.set_deadline(std::chrono::system_clock::now() +
                            absl::ToChronoNanoseconds(options_.stream_timeout));
    }
    stub_->async()->Publish(&context_, this);
    // Held until the last write is started (or the stream is over), so
    // that OnDone cannot come while a publishing thread starts a write.
    AddHold();
    StartRead(&read_buf_);
    StartCall();
  }

  ~GrpcStream() override {
    bool done;
    {
      MutexLock lock(&mu_);
      done = done_;
    }
    if (!done) context_.TryCancel();
    MutexLock lock(&mu_);
    mu_.Await(&done_);
  }

  absl::StatusOr<uint64_t> Publish(std::string topic, std::string payload,
                                   cloudlink::v1::DeliveryLevel level,
                                   absl::Duration timeout) override {
    uint64_t id;
    bool write;
    {
      MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return done_ || read_closed_ || closing_;
      };
      const absl::Status room = book_.AwaitRoom(&mu_, stop, timeout);
      if (!room.ok()) return room;
      if (closing_) {
        return absl::FailedPreconditionError("the producer is closed");
      }
      if (done_ || read_closed_ || book_.ended()) {
        return final_status_.ok() ? Ended() : final_status_;
      }
      id = book_.Add();
      AddPending(options_, id, std::move(topic), std::move(payload), level,
                 &pending_, &pending_bytes_);
      write = NextWriteLocked();
    }
    if (write) StartWrite(&write_buf_);
    return id;
  }

  std::vector<ProducerAck> TakeAcks() override {
    MutexLock lock(&mu_);
    return book_.Take();
  }

  size_t outstanding() override {
    MutexLock lock(&mu_);
    return book_.outstanding();
  }

  absl::Status Close(absl::Duration timeout) override {
    bool writes_done = false;
    bool release = false;
    {
      MutexLock lock(&mu_);
      if (closing_) {
        return absl::FailedPreconditionError("the producer is closed");
      }
      auto acked = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return done_ || read_closed_ || book_.outstanding() == 0;
      };
      const bool all = mu_.AwaitWithTimeout(acked, timeout);
      closing_ = true;
      if (!all) {
        mu_.Unlock();
        context_.TryCancel();
        mu_.Lock();
        mu_.Await(&done_);
        return absl::DeadlineExceededError(absl::StrCat(
            "acks were still missing after ", absl::FormatDuration(timeout)));
      }
      if (!done_ && !read_closed_ && !write_in_flight_ && !writes_done_) {
        writes_done_ = true;
        writes_done = true;
      }
      release = ReleaseHoldLocked();
    }
    if (writes_done) StartWritesDone();
    if (release) RemoveHold();
    MutexLock lock(&mu_);
    mu_.Await(&done_);
    return final_status_;
  }

  // grpc::ClientBidiReactor.
  void OnWriteDone(bool ok) override {
    bool write = false;
    bool writes_done = false;
    bool release = false;
    {
      MutexLock lock(&mu_);
      write_in_flight_ = false;
      if (!ok) read_closed_ = true;  // the call is broken; OnDone follows
      write = NextWriteLocked();
      if (!write && closing_ && !writes_done_ && !read_closed_) {
        writes_done_ = true;
        writes_done = true;
      }
      release = ReleaseHoldLocked();
    }
    if (write) StartWrite(&write_buf_);
    if (writes_done) StartWritesDone();
    if (release) RemoveHold();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The stream ends; OnDone follows once no write is in flight.
      bool release;
      {
        MutexLock lock(&mu_);
        read_closed_ = true;
        release = ReleaseHoldLocked();
      }
      if (release) RemoveHold();
      return;
    }
    std::vector<ProducerAck> acks = AcksOf(read_buf_);
    StartRead(&read_buf_);
    Deliver(std::move(acks));
  }

  void OnDone(const grpc::Status& status) override {
    std::vector<ProducerAck> failed;
    {
      MutexLock lock(&mu_);
      final_status_ = api::FromGrpcStatus(status);
      failed = book_.End(final_status_.ok() ? Ended() : final_status_);
    }
    for (const ProducerAck& ack : failed) on_ack_(ack);
    MutexLock lock(&mu_);
    done_ = true;
  }

 private:
  static absl::Status Ended() {
    return absl::UnavailableError(
        "the Publish stream ended before this message was acknowledged");
  }

  // Hands `acks` to on_ack or to TakeAcks(), and frees their window.
  void Deliver(std::vector<ProducerAck> acks) {
    {
      MutexLock lock(&mu_);
      acks = book_.Settle(std::move(acks));
    }
    for (const ProducerAck& ack : acks) on_ack_(ack);
  }

  // True once, when no further write will start: the hold goes.
  bool ReleaseHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (hold_released_ || write_in_flight_) return false;
    if (!read_closed_ && !writes_done_) return false;
    hold_released_ = true;
    return true;
  }

  // Moves the pending batch into write_buf_ when no write is in flight.
  bool NextWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (write_in_flight_ || pending_.batch_size() == 0 || writes_done_ ||
        read_closed_ || hold_released_) {
      return false;
    }
    TakeBatch(options_, &pending_, &pending_bytes_, &write_buf_);
    write_in_flight_ = true;
    return true;
  }

  std::unique_ptr<cloudlink::v1::CloudLink::Stub> stub_;
  const ProducerOptions options_;
  const std::function<void(const ProducerAck&)> on_ack_;
  grpc::ClientContext context_;
  PublishAck read_buf_;       // gRPC's read thread only
  PublishRequest write_buf_;  // owned by the write in flight

  mutable Mutex mu_;
  PublishRequest pending_ ABSL_GUARDED_BY(mu_);  // batch being gathered
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  AckBook book_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;  // the server's side ended
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<Producer> Producer::Open(
    std::shared_ptr<grpc::Channel> channel, ProducerOptions options,
    std::function<void(const ProducerAck&)> on_ack) {
  return std::unique_ptr<Producer>(new Producer(std::make_unique<GrpcStream>(
      std::move(channel), options, std::move(on_ack))));
}

Producer::Producer(std::unique_ptr<Stream> stream)
    : stream_(std::move(stream)) {}

Producer::~Producer() = default;

absl::StatusOr<uint64_t> Producer::Publish(std::string topic,
                                           std::string payload,
                                           cloudlink::v1::DeliveryLevel level,
                                           absl::Duration timeout) {
  return stream_->Publish(std::move(topic), std::move(payload), level, timeout);
}

std::vector<ProducerAck> Producer::TakeAcks() { return stream_->TakeAcks(); }

size_t Producer::outstanding() const { return stream_->outstanding(); }

absl::Status Producer::Close(absl::Duration timeout) {
  return stream_->Close(timeout);
}

}  // namespace cloudlink::client

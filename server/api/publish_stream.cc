#include "server/api/publish_stream.h"

#include <chrono>
#include <deque>
#include <memory>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "server/api/grpc_status.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/mutex.h"

namespace cloudlink::api {
namespace {

// How often waits re-check cancellation and shutdown.
constexpr absl::Duration kPoll = absl::Milliseconds(100);

// Acks of one stream: completions add, the writer thread takes.
struct AckQueue {
  Mutex mu;
  std::deque<cloudlink::v1::PublishAck> acks ABSL_GUARDED_BY(mu);
  uint64_t outstanding ABSL_GUARDED_BY(mu) = 0;  // accepted, not yet acked
  bool reading_done ABSL_GUARDED_BY(mu) = false;
  bool dead ABSL_GUARDED_BY(mu) = false;  // writes failed or call over

  void Add(uint64_t id, const absl::Status& status, bool was_outstanding) {
    cloudlink::v1::PublishAck ack;
    ack.set_id(id);
    ack.set_code(static_cast<int32_t>(status.code()));
    if (!status.ok()) ack.set_message(std::string(status.message()));
    MutexLock lock(&mu);
    if (was_outstanding) --outstanding;
    if (!dead) acks.push_back(std::move(ack));
  }
};

publish::DeliveryLevel LevelOf(cloudlink::v1::DeliveryLevel level) {
  switch (level) {
    case cloudlink::v1::DELIVERY_LEVEL_AT_MOST_ONCE:
      return publish::DeliveryLevel::kAtMostOnce;
    case cloudlink::v1::DELIVERY_LEVEL_DURABLE:
      return publish::DeliveryLevel::kDurable;
    default:
      return publish::DeliveryLevel::kAtLeastOnce;
  }
}

}  // namespace

grpc::Status ServePublishStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<cloudlink::v1::PublishAck,
                             cloudlink::v1::PublishRequest>* stream,
    publish::Publisher* publisher, const std::atomic<bool>& shutting_down) {
  auto queue = std::make_shared<AckQueue>();
  auto over = [&] { return context->IsCancelled() || shutting_down.load(); };

  // The stream's deadline, when the client set one: gRPC states it in wall
  // time; it becomes a monotonic one here, once, so that a wall-clock step
  // during the stream neither stretches nor cuts the waits it bounds.
  MonotonicTime stream_deadline = MonotonicTime::InfiniteFuture();
  const auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    stream_deadline = RealClock()->MonotonicNow() +
                      (absl::FromChrono(deadline) - RealClock()->WallNow());
  }

  std::thread writer([&] {
    while (true) {
      cloudlink::v1::PublishAck ack;
      {
        MutexLock lock(&queue->mu);
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue->mu) {
          return !queue->acks.empty() || queue->dead ||
                 (queue->reading_done && queue->outstanding == 0);
        };
        while (!ready()) {
          queue->mu.AwaitWithTimeout(ready, kPoll);
          if (!ready() && over()) queue->dead = true;
        }
        if (queue->acks.empty()) return;  // dead, or all acked
        ack = std::move(queue->acks.front());
        queue->acks.pop_front();
      }
      // No buffer hint, even with more acks queued: a sync-API Write blocks
      // until its op completes, and a hinted one may wait for a later flush
      // that, with the client silent (half-closed), never comes. Under ASan
      // that hung publish_link_test about 1 run in 5.
      if (!stream->Write(ack)) {
        MutexLock lock(&queue->mu);
        queue->dead = true;
        queue->acks.clear();
        return;
      }
    }
  });

  cloudlink::v1::PublishRequest request;
  while (!over() && stream->Read(&request)) {
    const uint64_t id = request.id();
    if (publisher == nullptr) {
      queue->Add(
          id,
          Error(absl::StatusCode::kUnavailable, reason::kPublishUnavailable,
                "this daemon has no publish path"),
          false);
      continue;
    }
    publish::PublishArgs args;
    args.topic = request.topic();
    args.payload = std::move(*request.mutable_payload());
    args.level = LevelOf(request.level());
    args.wait_when_full = request.wait_when_full();
    args.wait_deadline = stream_deadline;
    args.cancelled = over;
    if (args.level != publish::DeliveryLevel::kDurable) {
      args.delivery_deadline = stream_deadline;
    }
    {
      MutexLock lock(&queue->mu);
      ++queue->outstanding;
    }
    absl::Status accepted = publisher->Publish(
        std::move(args), [queue, id](const absl::Status& outcome) {
          queue->Add(id, outcome, true);
        });
    if (!accepted.ok()) queue->Add(id, accepted, true);
  }
  {
    MutexLock lock(&queue->mu);
    queue->reading_done = true;
    if (over()) queue->dead = true;
  }
  writer.join();
  {
    MutexLock lock(&queue->mu);
    queue->dead = true;  // late completions only drop their acks now
  }
  if (shutting_down.load()) {
    return ToGrpcStatus(Error(absl::StatusCode::kUnavailable,
                              reason::kShuttingDown, "cloudlinkd is stopping"));
  }
  return grpc::Status::OK;
}

}  // namespace cloudlink::api

#pragma once

// The Publish RPC's bidirectional stream, served with gRPC's callback API:
// a request whose read completes is handed to the Publisher on the thread
// that completed the read (no handler thread in between), and acks are
// written as outcomes accumulate: one write carries every outcome that came
// while the previous write was in flight.
//
// Requests and acks (see the proto): a single-message request gets its own
// PublishAck; the messages of a batch request (PublishRequest.batch) are
// answered in batch acks (ok_ids, failed). Acks may come out of request
// order.
//
// Flow control instead of buffering: while more than `max_ack_backlog` acks
// of a stream wait to be written (its caller does not read them), the
// stream reads no further request, so HTTP/2 flow control holds the caller
// back; reading resumes once the backlog is below half of it. Error acks
// quote at most publish::kMaxQuotedInput bytes of the caller's input.
//
// Waiting for room: a message with wait_when_full is first published
// without waiting, on the gRPC thread (the common case: there is room, and
// no other thread is involved). Only when the queue or spool is full does
// it go, with the rest of its request, to a thread of the service's
// WaitPool (wait_pool.h: up to WaitPool::kDefaultKeptThreads threads kept,
// parked while idle) that waits, bounded by the stream's deadline,
// cancellation and shutdown; the stream reads on once that request is
// done.
//
// Ends when the client half-closes, after every outstanding ack was
// written; or when the call is cancelled, its deadline passes, writing
// fails, or Shutdown() is called (then UNAVAILABLE SHUTTING_DOWN; acks not
// yet written are dropped). The stream's deadline, when set, bounds waits
// for room and is each AT_MOST_ONCE / AT_LEAST_ONCE message's delivery
// deadline. Completions that arrive after the stream ended are dropped
// harmlessly.
//
// A request that does not parse (a topic that is not valid UTF-8 from a
// client whose protobuf sends it anyway, as C++ does after logging) reads
// exactly like the half-close: the stream ends with OK after the
// outstanding acks, and that request gets no ack. Clients in languages that
// check UTF-8 on serialization (Go, Python, Java) refuse to send it in the
// first place.
//
// Thread-safe.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "server/api/wait_pool.h"
#include "server/common/mutex.h"
#include "server/publish/publisher.h"

namespace cloudlink::api {

struct PublishStreamLimits {
  // Acks waiting to be written before the stream stops reading.
  size_t max_ack_backlog = 4096;
  // Outcomes carried by one batch ack (the rest go in the next write).
  size_t max_acks_per_write = 16384;
};

// The Publish streams of one service.
class PublishStreams {
 public:
  using Reactor = grpc::ServerBidiReactor<cloudlink::v1::PublishRequest,
                                          cloudlink::v1::PublishAck>;

  // `publisher` may be null (every message then gets UNAVAILABLE
  // PUBLISH_UNAVAILABLE); it must outlive every stream.
  explicit PublishStreams(publish::Publisher* publisher,
                          PublishStreamLimits limits = PublishStreamLimits());
  // Call Shutdown() and let the gRPC server end its calls first.
  ~PublishStreams();
  PublishStreams(const PublishStreams&) = delete;
  PublishStreams& operator=(const PublishStreams&) = delete;

  // Serves one call; gRPC owns the returned reactor. A non-OK `refused`
  // (the caller may not publish, or is over a stream cap) ends the call at
  // once with that status. `held` (may be null; e.g. the call's stream-cap
  // lease) is released when gRPC is done with the call.
  Reactor* Start(grpc::CallbackServerContext* context, absl::Status refused,
                 std::shared_ptr<void> held = nullptr);

  // Ends every open stream with UNAVAILABLE SHUTTING_DOWN (once a request
  // being published on a waiting thread gave up); later calls end so at
  // once.
  void Shutdown();

  // Streams open now, and requests read since the start (for tests).
  size_t open() const;
  uint64_t requests_read() const { return requests_read_.load(); }
  // Requests that found the queue or spool full and went to a waiting
  // thread, and threads started for them, since the start (for tests).
  uint64_t requests_waited() const { return requests_waited_.load(); }
  uint64_t waiting_threads_started() const {
    return wait_pool_.threads_started();
  }

  struct Stream;  // one call's shared state (publish_stream.cc)

 private:
  friend struct Stream;
  publish::Publisher* const publisher_;
  const PublishStreamLimits limits_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<uint64_t> requests_read_{0};
  std::atomic<uint64_t> requests_waited_{0};
  mutable Mutex mu_;
  std::set<std::shared_ptr<Stream>> open_ ABSL_GUARDED_BY(mu_);
  // Last member: destroyed first, joining its kept threads.
  WaitPool wait_pool_;
};

}  // namespace cloudlink::api

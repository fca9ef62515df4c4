#pragma once

// One producer's connection to the publish socket (server.h): the Publish
// stream of the API without gRPC. It reads the hello and the
// PublishRequests (frame.h), hands every message to the Publisher on the
// socket thread, and writes each message's ack when its outcome comes,
// from the thread that completes it (the link thread, once per pass for
// all outcomes of that pass), so that in the common case no thread but the
// link thread is woken for an ack.
//
// Protocol (cloudlink.proto, PublishSocketHello): the first frame is a
// PublishSocketHello with version 1, then PublishRequests; replies are
// PublishSocketReply frames. Single-message requests get their own
// PublishAck; the outcomes of batch requests go into batch acks, one per
// completing pass. The stream ends with one PublishSocketEnd frame:
//   OK                      the producer half-closed and every ack was
//                           written;
//   INVALID_ARGUMENT REQUEST_MALFORMED
//                           a frame did not parse (a missing or wrong hello,
//                           a request that is not a PublishRequest), after
//                           the acks of the messages before it;
//   RESOURCE_EXHAUSTED FRAME_TOO_LARGE
//                           a frame announced more than 4 MiB;
//   DEADLINE_EXCEEDED       the hello's timeout passed;
//   UNAVAILABLE SHUTTING_DOWN
//                           cloudlinkd is stopping.
// Acks not yet written when the stream ends with an error are dropped; the
// messages themselves stay accepted.
//
// Flow control instead of buffering: while more than `max_ack_backlog`
// acks wait to be written (the producer does not read them), the
// connection reads no further request, so the socket's buffer holds the
// producer back; reading resumes below half of it. A message with
// wait_when_full that finds the queue or spool full goes, with the rest of
// its request, to a thread of the WaitPool, and the connection reads
// nothing more until that request is done.
//
// Threads: Service(), Start() and Close() run on the socket thread only;
// outcomes arrive on any thread. Whatever needs the socket thread (a write
// the socket could not take at once, reading again after a pause or a
// wait, the end) is asked for with the `attention` callback.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/api/publish_items.h"
#include "server/api/wait_pool.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/publish/completion_batch.h"
#include "server/publish/publisher.h"
#include "server/publish_socket/frame.h"

namespace cloudlink::publish_socket {

struct ConnectionLimits {
  // Acks waiting to be written before the connection stops reading.
  size_t max_ack_backlog = 4096;
  // Bytes read from one connection per Service() call (then the others get
  // their turn).
  size_t max_read_per_turn = size_t{1} << 20;
};

// Requests being finished on the wait pool's threads, so that their owner
// can wait for them before it goes (a job may run on a thread of its own).
class WaitingJobs {
 public:
  void Started() {
    MutexLock lock(&mu_);
    ++running_;
  }
  void Ended() {
    MutexLock lock(&mu_);
    --running_;
  }
  // Blocks until no job runs.
  void AwaitNone() {
    MutexLock lock(&mu_);
    mu_.Await([this]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ == 0; });
  }

 private:
  Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

// What the connections of one socket share.
struct ConnectionContext {
  publish::Publisher* publisher = nullptr;  // null: PUBLISH_UNAVAILABLE
  api::WaitPool* wait_pool = nullptr;
  WaitingJobs* waiting_jobs = nullptr;  // counts the wait pool's jobs
  const std::atomic<bool>* shutting_down = nullptr;
  ConnectionLimits limits;
  Clock* clock = RealClock();
};

class Connection final : public publish::OutcomeSink,
                         public api::PublishItemsSink,
                         public std::enable_shared_from_this<Connection> {
 public:
  // Takes `fd` (a connected, non-blocking stream socket). `attention` asks
  // the socket thread to call Service() soon; it must not call back into
  // the connection.
  Connection(int fd, const ConnectionContext* context,
             std::function<void(std::shared_ptr<Connection>)> attention);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }

  // Socket thread: reads and handles what `events` (epoll's) report, flushes
  // acks, ends the stream when it is over. Returns the epoll events wanted
  // next (EPOLLIN, EPOLLOUT), or nullopt when the connection is done and
  // must be closed.
  absl::optional<uint32_t> Service(uint32_t events);

  // Socket thread: ends the stream at once with `status` (a refused caller,
  // a cap, a shutdown): writes the end frame if the socket takes it and
  // stops reading; Service() then reports it done.
  void End(const absl::Status& status);

  // Socket thread, once the connection is done or its server stops: shuts
  // the socket down (the peer sees the end at once) and never asks for
  // attention again (when Close() returns, no call of `attention` runs).
  // The descriptor is closed with the connection, once no completion holds
  // it.
  void Close();

  // When the hello's timeout passes (InfiniteFuture: none).
  MonotonicTime deadline() const;

  // publish::OutcomeSink: the outcomes of one pass of the completing thread.
  void TakeOutcomes(std::vector<publish::Outcome>& outcomes) override;

  // api::PublishItemsSink.
  publish::Completion CompletionFor(uint64_t id, uint32_t tag) override;
  void Accepting() override;
  void Unaccept() override;
  void Refused(std::vector<publish::Outcome>& refused) override;
  bool Over() const override;

  // For tests: requests read, and requests that went to a waiting thread.
  uint64_t requests_read() const { return requests_read_.load(); }
  uint64_t requests_waited() const { return requests_waited_.load(); }

 private:
  // Reads and handles up to max_read_per_turn bytes.
  void ReadSome();
  // Handles one frame; false when the stream must stop reading.
  bool HandleFrame(absl::string_view body);
  void HandleRequest(cloudlink::v1::PublishRequest& request);
  // Appends the outcomes as reply frames and tries to write them.
  void AddOutcomesLocked(std::vector<publish::Outcome>& outcomes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends the end frame (once) and stops reading.
  void EndLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes what `out_` holds as far as the socket takes it.
  void FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a change on another thread: true when the socket thread must look.
  // Asks for the socket thread when a change calls for it, or when
  // `reading_resumes` (a wait for room ended), once until the next
  // Service(); `attention_` runs under mu_, so Close() waits for it.
  void AttendLocked(bool reading_resumes = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int fd_;
  const ConnectionContext* const context_;
  const std::function<void(std::shared_ptr<Connection>)> attention_;
  std::atomic<uint64_t> requests_read_{0};
  std::atomic<uint64_t> requests_waited_{0};

  // Socket thread only.
  FrameReader reader_;
  bool hello_seen_ = false;

  mutable Mutex mu_;
  MonotonicTime deadline_ ABSL_GUARDED_BY(mu_) =
      MonotonicTime::InfiniteFuture();
  std::string out_ ABSL_GUARDED_BY(mu_);  // reply bytes not yet written
  size_t out_sent_ ABSL_GUARDED_BY(mu_) = 0;
  size_t unsent_acks_ ABSL_GUARDED_BY(mu_) = 0;      // outcomes in out_
  uint64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;    // accepted, not completed
  bool reading_done_ ABSL_GUARDED_BY(mu_) = false;   // EOF or a bad frame
  bool paused_ ABSL_GUARDED_BY(mu_) = false;         // the ack backlog
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;        // a thread waits for room
  bool write_blocked_ ABSL_GUARDED_BY(mu_) = false;  // the socket is full
  bool broken_ ABSL_GUARDED_BY(mu_) = false;         // the peer is gone
  bool ended_ ABSL_GUARDED_BY(mu_) = false;          // the end frame is in out_
  bool attention_asked_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);  // for the end frame
};

}  // namespace cloudlink::publish_socket

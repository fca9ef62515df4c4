#pragma once

// The bounded memory queue of the publish path: producers
// (API streams, the benchmarks) Push from any thread; the link thread drains
// it with TakeBatch while it is online and its MQTT window has room.
//
// Bounded by bytes (Message::size(), default 64 MiB, cloudlinkd
// --queue-bytes) and by messages. When full, Push fails at once with
// RESOURCE_EXHAUSTED QUEUE_FULL or, when asked to wait, waits for room until
// its deadline, its cancellation check or Close(). Nothing is dropped
// silently: every refusal and every gave-up wait is counted, and every
// accepted message's completion is called exactly once by whoever finishes
// it (the link, or Close()).
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/publish/message.h"

namespace cloudlink::publish {

struct QueueOptions {
  size_t max_bytes = size_t{64} << 20;
  size_t max_messages = size_t{1} << 20;
  // Memory goes back (ReleaseMemoryIfDue): glibc keeps what a burst freed
  // in its arenas, one per thread that allocated (messages are allocated on
  // the API's and the publish socket's threads and freed on the link's).
  // After `release_after_bytes` of messages were taken since the last
  // release, `release_memory` runs when the link next holds none of them.
  // Default: malloc_trim(0), which returns the free heap pages of every
  // arena to the system. nullptr: nothing.
  size_t release_after_bytes = size_t{16} << 20;
  std::function<void()> release_memory = ReleaseFreeMemory;

  static void ReleaseFreeMemory();
};

struct QueueStats {
  uint64_t queued = 0;          // messages in the queue now
  uint64_t queued_bytes = 0;    // their Message::size() sum
  uint64_t pushed = 0;          // accepted since start
  uint64_t taken = 0;           // handed to the link since start
  uint64_t rejected = 0;        // refused at once: full (QUEUE_FULL) or too big
  uint64_t wait_timed_out = 0;  // waited for room and gave up
};

class PublishQueue {
 public:
  // `clock` stamps Message::enqueued and measures Push's waits; it must
  // outlive the queue.
  explicit PublishQueue(QueueOptions options, Clock* clock = RealClock());
  // Completes every message still queued with UNAVAILABLE SHUTTING_DOWN.
  ~PublishQueue();
  PublishQueue(const PublishQueue&) = delete;
  PublishQueue& operator=(const PublishQueue&) = delete;

  // Called after every successful Push, without the queue's lock held, from
  // the pushing thread; the link sets it to wake its thread. Replaces any
  // earlier callback; nullptr removes it.
  void SetWakeCallback(std::function<void()> wake);

  // Appends `message` (stamping `enqueued`). On success the queue owns it
  // and its completion is called later. On failure the message is dropped
  // WITHOUT calling its completion (the caller reports the returned error):
  //   INVALID_ARGUMENT MESSAGE_TOO_LARGE  it alone exceeds max_bytes;
  //   RESOURCE_EXHAUSTED QUEUE_FULL       full and !wait;
  //   DEADLINE_EXCEEDED QUEUE_WAIT_TIMEOUT  waited until `wait_deadline`
  //                                       (on the queue's clock; checked
  //                                       with `cancelled`) or `cancelled()`
  //                                       returned true (both polled every
  //                                       50 ms; `cancelled` may be empty);
  //   UNAVAILABLE SHUTTING_DOWN           after Close().
  absl::Status Push(
      Message message, bool wait = false,
      MonotonicTime wait_deadline = MonotonicTime::InfiniteFuture(),
      const std::function<bool()>& cancelled = nullptr);

  // As Push without waiting, for a producer that waits for room its own
  // way (the API's Publish stream, off its gRPC thread): a full queue
  // answers RESOURCE_EXHAUSTED QUEUE_FULL without counting a refusal. On
  // any error `message` stays with the caller, untouched.
  absl::Status TryPush(Message& message);

  // Removes and returns up to `max_messages` messages from the front, in
  // order, stopping before the one that would pass `max_bytes` (but always
  // returning at least one when the queue is not empty and max_messages > 0).
  // Never blocks. Wakes producers waiting for room.
  std::vector<Message> TakeBatch(size_t max_messages, size_t max_bytes);

  // Refuses further pushes (UNAVAILABLE SHUTTING_DOWN), wakes waiters and
  // completes every queued message with UNAVAILABLE SHUTTING_DOWN.
  void Close();

  // Removes every queued message and completes it with `why` (a Reclaim
  // fails the old claim's messages with ABORTED RECLAIMED); pushes go on
  // being accepted. Wakes producers waiting for room. Returns how many.
  size_t FailAll(const absl::Status& why);

  // The link calls it when no message it took is still held (all sent and
  // acknowledged, or failed) and so freed: the end of a burst, or between
  // two messages at a steady rate. Runs QueueOptions::release_memory (on the
  // calling thread, without the queue's lock) when the queue is empty and
  // at least release_after_bytes were taken since the last release; returns
  // whether it ran.
  bool ReleaseMemoryIfDue();

  QueueStats stats() const;
  bool empty() const;

 private:
  // Push and TryPush: moves from `message` only on success; `count_full`:
  // a full queue's refusal counts in QueueStats::rejected.
  absl::Status PushImpl(Message& message, bool wait, bool count_full,
                        MonotonicTime wait_deadline,
                        const std::function<bool()>& cancelled);

  const QueueOptions options_;
  Clock* const clock_;
  mutable Mutex mu_;
  std::deque<Message> messages_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  size_t taken_since_release_ ABSL_GUARDED_BY(mu_) = 0;  // bytes
  QueueStats stats_ ABSL_GUARDED_BY(mu_);
  Mutex wake_mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(wake_mu_);
};

}  // namespace cloudlink::publish

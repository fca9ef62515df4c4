#pragma once

// The producers' entry to the publish path: routes a
// message by its delivery level to the memory queue (AT_MOST_ONCE,
// AT_LEAST_ONCE) or the durable spool (DURABLE), and refuses topic names the
// login did not announce. The API's Publish stream and the benchmarks use
// it; the link drains queue() and spool() and tells it the topic names.
//
// Thread-safe.

#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/lendable_loop.h"
#include "server/common/mutex.h"
#include "server/publish/message.h"
#include "server/publish/publish_queue.h"
#include "server/publish/spool.h"

namespace cloudlink::publish {

struct PublishArgs {
  std::string topic;  // a topic NAME of the login's topic map
  std::string payload;
  DeliveryLevel level = DeliveryLevel::kAtLeastOnce;
  // When the queue / spool is full: wait for room (true) or fail at once.
  bool wait_when_full = false;
  // Bounds a wait for room, on the queue's and the spool's clock (both
  // RealClock() in cloudlinkd); InfiniteFuture: no bound but `cancelled`.
  MonotonicTime wait_deadline = MonotonicTime::InfiniteFuture();
  // Polled while waiting for room; may be empty.
  std::function<bool()> cancelled;
  // Delivery deadline for queue messages (see Message::deadline).
  MonotonicTime delivery_deadline = MonotonicTime::InfiniteFuture();
};

// How much of a caller's input an error message repeats: the first
// kMaxQuotedInput bytes (cut at a UTF-8 boundary), then "... (N bytes)".
// Acks of hostile producers therefore stay small.
inline constexpr size_t kMaxQuotedInput = 256;
std::string QuotedInput(absl::string_view input);

class Publisher {
 public:
  // `queue` is required; `spool` may be null (DURABLE is then refused with
  // FAILED_PRECONDITION SPOOL_UNAVAILABLE until AttachSpool). Both must
  // outlive the publisher.
  Publisher(PublishQueue* queue, Spool* spool) : queue_(queue), spool_(spool) {}

  // Gives a publisher that has no spool one (opened later, e.g. on reload
  // once the lib dir was fixed); `spool` must outlive the publisher. Returns
  // false, changing nothing, when it has one already. Once set, the spool
  // never changes, so spool() callers may keep what they read.
  bool AttachSpool(Spool* spool);

  // The producers' event loop (the publish socket's), which the link serves
  // on its own thread while a connection is open (lendable_loop.h). Set
  // once, before or after the link started; `loop` must outlive the links
  // draining this publisher. Returns false, changing nothing, when one is
  // attached already.
  bool AttachInputLoop(LendableLoop* loop);
  LendableLoop* input_loop() const {
    return input_loop_.load(std::memory_order_acquire);
  }

  // Accepts the message or returns why not, WITHOUT calling `done`; on OK,
  // `done` is called exactly once later (see message.h and spool.h for
  // when). Errors: INVALID_ARGUMENT TOPIC_UNKNOWN (empty, or not among the
  // topic names of the last login once one happened), FAILED_PRECONDITION
  // SPOOL_UNAVAILABLE, and those of PublishQueue::Push / Spool::Append.
  absl::Status Publish(PublishArgs args, Completion done);

  // As Publish, but never waits (args.wait_when_full, wait_deadline and
  // cancelled are ignored): a full queue or spool answers RESOURCE_EXHAUSTED
  // QUEUE_FULL / SPOOL_FULL without counting a refusal. On any error `args`
  // and `done` stay as they were, so the caller can then wait for room with
  // Publish off its own thread.
  absl::Status TryPublish(PublishArgs& args, Completion& done);

  // The topic names of the current login (the link calls it after each
  // login). Before the first call every non-empty name is accepted (and
  // checked by the link at send time).
  void SetTopicNames(const std::vector<std::string>& names);
  // True when `name` may be published to now.
  bool TopicKnown(const std::string& name) const;

  PublishQueue* queue() const { return queue_; }
  Spool* spool() const { return spool_.load(std::memory_order_acquire); }

 private:
  // INVALID_ARGUMENT TOPIC_UNKNOWN unless TopicKnown(topic).
  absl::Status CheckTopic(const std::string& topic) const;
  static absl::Status SpoolUnavailable();

  PublishQueue* const queue_;
  std::atomic<Spool*> spool_;
  std::atomic<LendableLoop*> input_loop_{nullptr};
  mutable Mutex mu_;
  bool names_known_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cloudlink::publish

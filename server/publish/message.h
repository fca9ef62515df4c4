#pragma once

// A message on its way from a producer to the broker: what
// the memory queue holds and the link publishes. A plain value, moved, not
// copied (it owns its completion).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace cloudlink::publish {

enum class DeliveryLevel {
  kAtMostOnce,   // MQTT QoS 0; complete once written to the connection
  kAtLeastOnce,  // MQTT QoS 1 from memory; complete on PUBACK
  kDurable,      // MQTT QoS 1 from the spool; the producer's ack is the fsync
};

// Called exactly once per accepted message with its outcome: OK, or the
// error (DEADLINE_EXCEEDED PUBLISH_TIMEOUT, INVALID_ARGUMENT TOPIC_UNKNOWN,
// FAILED_PRECONDITION PUBLISH_REFUSED, UNAVAILABLE SHUTTING_DOWN, ...). It
// runs on the link thread (or the thread that fails the message) and must
// not block or call back into the queue, the spool or the link.
using Completion = std::function<void(const absl::Status&)>;

struct Message {
  // A cloud topic NAME from the login's topic map ("node-instance-info");
  // the link resolves it to the MQTT topic at send time.
  std::string topic;
  std::string payload;
  // kAtMostOnce or kAtLeastOnce in the queue; kDurable for spool replay.
  DeliveryLevel level = DeliveryLevel::kAtLeastOnce;
  // When the queue took it (or the spool handed it out), on the queue's (the
  // spool's) clock, for latency.
  MonotonicTime enqueued = MonotonicTime::InfinitePast();
  // On the link's clock: after it the link fails the message with
  // DEADLINE_EXCEEDED PUBLISH_TIMEOUT if it is not done; InfiniteFuture
  // (default): no deadline, the message waits while offline.
  MonotonicTime deadline = MonotonicTime::InfiniteFuture();
  // For spool replay: the record's sequence number (> 0), acked in the
  // spool on PUBACK. 0 for queue messages.
  uint64_t spool_sequence = 0;
  // May be empty (nobody waits for the outcome).
  Completion done;

  // What the message counts against the queue's byte bound.
  size_t size() const { return topic.size() + payload.size(); }
};

}  // namespace cloudlink::publish

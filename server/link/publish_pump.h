#pragma once

// The publish path's end in the link: moves producers' messages from the
// Publisher into the MQTT session of the current connection, and completes
// each one.
//
// Order: messages carried over from an earlier connection first, then the
// durable spool and the memory queue taking turns. Limits: the session's
// send window (the server's Receive Maximum, less a packet id a SUBSCRIBE
// holds) bounds QoS 1, and `max_transport_backlog` bytes not yet
// handed to TLS bound QoS 0, which the window does not. Refills come in
// batches of at least half a window (window_refill.h), so that many packets
// share one WebSocket frame and one TLS write.
//
// Completion: QoS 0 once handed to the transport (CompleteHandedOver()),
// QoS 1 on its PUBACK (spooled ones are then acked in the spool). When the
// last message in flight completes, the memory queue may give the memory
// freed by the burst back to the system (publish_queue.h). Failures:
//   INVALID_ARGUMENT TOPIC_UNKNOWN     the name is not in the login's topics
//   INVALID_ARGUMENT MESSAGE_TOO_LARGE over the server's Maximum Packet Size
//   FAILED_PRECONDITION PUBLISH_REFUSED the broker refused it (PUBACK >= 0x80)
//   DEADLINE_EXCEEDED PUBLISH_TIMEOUT  its producer's deadline passed, checked
//                                      when sent and while in flight
// A failed spooled message leaves the spool (logged, counted). Nothing fails
// while offline: messages wait, except for their deadlines.
//
// Across connections: when a connection ends, every message still in flight
// is carried, in send order, and goes out first on the next connection as a
// new PUBLISH (each connection is a clean MQTT session, so nothing is DUP);
// these count as `resent`. On destruction, carried messages complete with
// UNAVAILABLE SHUTTING_DOWN (spooled ones stay in the spool).
//
// Thread-safety: link thread only, except NoteWork(), which any thread may
// call.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/link/window_refill.h"
#include "server/mqtt/mqtt_session.h"
#include "server/publish/latency_histogram.h"
#include "server/publish/message.h"
#include "server/publish/publisher.h"

namespace cloudlink::link {

// What the pump reports into LinkStatus.
struct PumpStatus {
  uint64_t in_flight = 0;  // published on this connection, awaiting PUBACK
  uint64_t held = 0;       // unacked, carried to the next connection
  uint64_t timed_out = 0;  // failed with PUBLISH_TIMEOUT
  uint64_t failed = 0;     // refused, too large or unknown topic
  uint64_t resent = 0;     // sent again on a later connection
  absl::Duration latency_p50 = absl::ZeroDuration();  // enqueue → PUBACK
  absl::Duration latency_p99 = absl::ZeroDuration();
};

class PublishPump {
 public:
  struct Limits {
    size_t batch = 256;                    // messages taken per batch
    size_t batch_bytes = size_t{1} << 20;  // bytes taken per batch
    size_t max_transport_backlog = size_t{4} << 20;
  };

  // `publisher` must outlive the pump.
  explicit PublishPump(publish::Publisher* publisher)
      : PublishPump(publisher, Limits()) {}
  PublishPump(publish::Publisher* publisher, Limits limits);
  ~PublishPump();
  PublishPump(const PublishPump&) = delete;
  PublishPump& operator=(const PublishPump&) = delete;

  // A new connection logged in with this topic map (name → MQTT topic); the
  // publisher learns the names.
  void BeginConnection(const std::map<std::string, std::string>& topics);

  // Thread-safe: new messages may be waiting (the queue's and the spool's
  // wake callbacks). Coalesced until the next Pump().
  void NoteWork() { work_noted_.store(true, std::memory_order_release); }

  // Moves messages into `session` (connected) when a refill is due, appending
  // the bytes to write to `*out`. `transport_backlog` is what the transport
  // has queued and not yet written. Returns true when it published anything;
  // the owner then writes `*out`, handles the session's events, and calls
  // CompleteHandedOver().
  bool Pump(mqtt::MqttSession& session, size_t transport_backlog,
            MonotonicTime now, std::string* out);

  // The QoS 0 messages of the last Pump() were handed to the transport.
  void CompleteHandedOver();

  // Session events about our messages.
  void OnAcked(uint64_t message_id, MonotonicTime now);
  void OnPublishFailed(const mqtt::SessionEvent& event);

  // Fails in-flight messages whose deadline passed. Cheap when none has one.
  void ExpireDeadlines(MonotonicTime now);

  // The connection ended: in-flight messages are carried to the next one.
  void EndConnection();

  // Between connections: completes every message the pump holds (in
  // flight or carried) with `why` and forgets it; a spooled one is not
  // acked in the spool (the caller empties the spool). Returns how many.
  size_t FailAll(const absl::Status& why);

  // When a deferred refill falls due (InfiniteFuture when none is); the
  // owner's loop must not sleep past it.
  MonotonicTime next_refill() const {
    return MonotonicTime::FromAbslTime(refill_.deadline());
  }

  // No later than the earliest deadline of a message in flight
  // (InfiniteFuture when none has one; after an ack it may be earlier than
  // needed): the owner's loop calls ExpireDeadlines by then, so it need not
  // wake periodically for them.
  MonotonicTime next_deadline() const { return next_deadline_; }

  PumpStatus status() const;

  // The producers' loop the connection may serve on the link thread while
  // it is open (Publisher::input_loop), or null.
  LendableLoop* input_loop() const { return publisher_->input_loop(); }

 private:
  void Send(publish::Message message, mqtt::MqttSession& session,
            MonotonicTime now, std::string* out);
  // Fails a message for good; a spooled one leaves the spool (logged).
  void Drop(publish::Message& message, const absl::Status& why);
  std::vector<publish::Message> TakeBatch(size_t room);
  // Nothing taken is held any more (in flight or carried): the memory queue
  // may give freed memory back (PublishQueue::ReleaseMemoryIfDue).
  void ReleaseMemoryWhenIdle();

  publish::Publisher* const publisher_;
  const Limits limits_;
  std::atomic<bool> work_noted_{false};
  std::map<std::string, std::string> topics_;  // login's name → topic
  // Messages handed to the session, by session message id.
  std::map<uint64_t, publish::Message> in_flight_;
  // Unacknowledged messages of earlier connections, in send order.
  std::deque<publish::Message> carried_;
  std::vector<uint64_t> qos0_written_;
  size_t deadlines_in_flight_ = 0;
  MonotonicTime next_deadline_ = MonotonicTime::InfiniteFuture();
  bool spool_turn_ = true;
  // The last pump stopped before its sources ran dry.
  bool more_waiting_ = false;
  WindowRefill refill_;
  publish::LatencyHistogram latency_;
  uint64_t timed_out_ = 0;
  uint64_t failed_ = 0;
  uint64_t resent_ = 0;
};

}  // namespace cloudlink::link

#pragma once

// When the link's publish pump tops up the MQTT session's QoS 1 window
// (many MQTT packets per WebSocket frame and TLS write).
//
// Refilling on every PUBACK sends each new message alone: mosquitto acks one
// message per frame, so the window frees one slot per loop pass and every
// message costs its own frame, TLS record and write. Waiting until at least
// half of the window is free lets the pump send ~half a window per frame
// (bench/analysis.md). So a refill is due when
//   - nothing is in flight (the window is empty), or
//   - at least half of the window is free (ceil(window / 2) slots), or
//   - no work is waiting (a refill costs nothing and finds nothing), or
//   - a slot is free and `max_delay` has passed since the last refill
//     (so a partly acked window never starves the queue).
// A full window is never due. Times are on the link's monotonic clock.
//
// Thread-safety: a plain value owned by the link thread.

#include <cstddef>

#include "absl/time/time.h"

namespace cloudlink::link {

class WindowRefill {
 public:
  explicit WindowRefill(absl::Duration max_delay = absl::Milliseconds(5))
      : max_delay_(max_delay) {}

  // Whether the pump should take messages now. `window` is the server's
  // Receive Maximum (at least 1 is assumed), `busy` the QoS 1 messages in
  // flight or queued in the session, `work_waiting` whether messages may be
  // waiting to be taken. When it says no but a slot is free, deadline() is
  // when it will say yes.
  bool Due(size_t window, size_t busy, bool work_waiting, absl::Time now);

  // The pump took messages (or tried to) at `now`.
  void Refilled(absl::Time now) {
    last_refill_ = now;
    deadline_ = absl::InfiniteFuture();
  }

  // Forgets the last refill (a new connection starts with an empty window).
  void Reset() {
    last_refill_ = absl::InfinitePast();
    deadline_ = absl::InfiniteFuture();
  }

  // When a deferred refill falls due; InfiniteFuture when none is deferred.
  // The owner's loop must not sleep past it.
  absl::Time deadline() const { return deadline_; }

 private:
  const absl::Duration max_delay_;
  absl::Time last_refill_ = absl::InfinitePast();
  absl::Time deadline_ = absl::InfiniteFuture();
};

}  // namespace cloudlink::link

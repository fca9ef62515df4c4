#pragma once

// Cloned machines: a VM or image copied with its claim carries the same
// claim id, which is the MQTT client id, onto another machine. The broker
// keeps one session per client id, so each clone's connect ends the other's
// session (MQTT 5 DISCONNECT reason 0x8E, session taken over) and, left
// alone, the two take the session from each other every few seconds.
//
// The guard tells that case from a one-off (our own reconnect racing its
// old session): `takeovers` takeovers within `window` mean another node
// uses this claim id. From then on the link reports SESSION_TAKEN_OVER and
// waits at least min_delay before each attempt, doubling with every further
// takeover up to max_delay, instead of fighting. It stays so until Reset()
// (a new Start: reload, reclaim, restart) or until a session outlives
// max_delay without being taken over (the clone is gone).
//
// Pure; link thread only.

#include <deque>

#include "absl/time/time.h"
#include "server/common/clock.h"

namespace cloudlink::link {

class TakeoverGuard {
 public:
  struct Params {
    int takeovers = 3;
    absl::Duration window = absl::Minutes(2);
    absl::Duration min_delay = absl::Seconds(15);
    absl::Duration max_delay = absl::Minutes(10);
  };

  TakeoverGuard() : TakeoverGuard(Params()) {}
  explicit TakeoverGuard(Params params) : params_(params) {}

  // A session ended at `now` because another client took it over. Returns
  // true when takeovers are now repeated (the caller reports
  // SESSION_TAKEN_OVER).
  bool OnTakenOver(MonotonicTime now);

  // A session that was online for `online` ended for another cause.
  void OnOtherEnd(absl::Duration online);

  // The least wait before the next attempt: zero unless repeated.
  absl::Duration MinDelay() const {
    return repeated_ ? delay_ : absl::ZeroDuration();
  }

  bool repeated() const { return repeated_; }
  const Params& params() const { return params_; }

  void Reset();

 private:
  const Params params_;
  std::deque<MonotonicTime> recent_;  // takeovers within the window
  bool repeated_ = false;
  absl::Duration delay_ = absl::ZeroDuration();
};

}  // namespace cloudlink::link

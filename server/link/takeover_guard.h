#pragma once

// Cloned machines: a VM or image copied with its claim carries the same
// claim id, which is the MQTT client id, onto another machine. The broker
// keeps one session per client id, so each clone's connect ends the other's
// session and, left alone, the two take the session from each other every
// few seconds.
//
// Two signals tell the guard that a session was taken over:
//   - the broker says so: MQTT 5 DISCONNECT with reason 0x8E (session taken
//     over), OnTakenOver();
//   - the broker just closes the connection, with no DISCONNECT, soon after
//     it accepted the session (OnAbruptEnd() with an online time under
//     `abrupt_session`). Some brokers never deliver the 0x8E: mosquitto 2.0
//     over WebSocket queues the DISCONNECT and then closes the connection
//     without sending it. A close by the broker shortly after a CONNACK,
//     again and again while our own connects keep succeeding, is what a
//     clone looks like there. A keep-alive timeout of ours, a failed connect
//     or a DISCONNECT with another reason is not counted.
//
// The guard tells that case from a one-off (our own reconnect racing its
// old session, a broker restart): `takeovers` such ends within `window`
// mean another node uses this claim id. From then on the link reports
// SESSION_TAKEN_OVER and waits at least min_delay before each attempt,
// doubling with every further takeover up to max_delay, instead of
// fighting; while so, every abrupt end of a session shorter than twice
// max_delay counts as a takeover (the other clone keeps its session for as
// long as its own wait lasts). It stays so until Reset() (a new Start:
// reload, reclaim, restart) or until a session outlives max_delay without
// being taken over, or twice max_delay before an abrupt end (the clone is
// gone).
//
// Defaults: 3 takeovers within 2 min, abrupt_session 1 min, min_delay 15 s,
// max_delay 10 min (docs/operating.md). Tests shorten them (cloudlinkd's
// --test-takeover-guard).
//
// Pure; link thread only.

#include <deque>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/clock.h"

namespace cloudlink::link {

class TakeoverGuard {
 public:
  struct Params {
    int takeovers = 3;
    absl::Duration window = absl::Minutes(2);
    absl::Duration abrupt_session = absl::Minutes(1);
    absl::Duration min_delay = absl::Seconds(15);
    absl::Duration max_delay = absl::Minutes(10);
  };

  // Parses "TAKEOVERS,WINDOW,ABRUPT_SESSION,MIN_DELAY,MAX_DELAY" (durations
  // in Abseil's form: "30s", "2m"), e.g. "3,40s,20s,10s,20s". Errors:
  // INVALID_ARGUMENT naming the part that is wrong (a count under 1, a
  // duration that is not positive, max_delay under min_delay).
  static absl::StatusOr<Params> ParseParams(absl::string_view text);

  TakeoverGuard() : TakeoverGuard(Params()) {}
  explicit TakeoverGuard(Params params) : params_(params) {}

  // A session ended at `now` because another client took it over (the
  // broker's reason 0x8E). Returns true when takeovers are now repeated
  // (the caller reports SESSION_TAKEN_OVER).
  bool OnTakenOver(MonotonicTime now);

  // A session that was online for `online` ended at `now` because the
  // broker closed the connection without a DISCONNECT. Counts as a
  // takeover when `online` is under abrupt_session, or, once repeated,
  // under twice max_delay (a longer one ends the repeated state). Returns
  // what OnTakenOver returns, false when not counted.
  bool OnAbruptEnd(MonotonicTime now, absl::Duration online);

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

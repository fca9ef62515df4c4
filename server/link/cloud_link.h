#pragma once

// The cloud link of a claimed node (docs/protocol.md): env → login → WSS →
// MQTT 5 session, reconnecting with jittered backoff, honouring the cloud's
// retry advice, bans and DisconnectReq, backing off from a clone that takes
// its session over (SESSION_TAKEN_OVER, takeover_guard.h), and leaving
// gracefully.
//
// One thread, the link thread, owns everything network-side (the lws loop,
// the session); other threads only call the methods below, which hand the
// link thread a command and wake it. Status changes are reported through a
// callback that runs on the link thread and must not block or call back in.
//
// Publishing, when the link has a Publisher, is the PublishPump's
// (publish_pump.h): while online it drains the publisher into the session;
// unacknowledged messages are carried to the next connection; on destruction
// messages the link still holds complete with UNAVAILABLE SHUTTING_DOWN.
// Messages belong to the claim they were published under: a Start with
// another claim id (a Reclaim) fails every message of the old claim that
// the pump, the memory queue and the spool hold with ABORTED RECLAIMED and
// drops it, before the new claim connects.
//
// The parts: cloud::CloudApi (env, login) → transport::WssConnector (the
// WebSocket over TLS) → Connection (connection.h: one connection's life, its
// MQTT session and the cloud's commands) ← PublishPump.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "server/common/backoff.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/common/thread_role.h"
#include "server/config/environment.h"
#include "server/http/http_client.h"
#include "server/link/connection.h"
#include "server/link/publish_pump.h"
#include "server/link/takeover_guard.h"
#include "server/mqtt/mqtt_session.h"
#include "server/publish/publisher.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::link {

// Everything the link needs from a claim.
struct LinkConfig {
  std::string url;  // cloud base URL
  std::string claim_id;
  std::string machine_guid;
  std::string hostname;
  std::string node_id;  // from an earlier session; "" until the cloud says
  std::string proxy;    // raw setting ("env", "none", http://..., socks5://...)
  bool insecure = false;
  std::string ca_file;
  config::Environment env;      // for proxy "env"
  std::string private_key_pem;  // a secret
};

struct LinkStatus {
  bool active = false;  // Start()ed and not Stop()ped
  bool online = false;
  bool banned = false;
  std::string reason;       // why offline / banned; "" when online
  std::string reason_name;  // ReasonOf the error behind `reason`
  uint32_t mqtt_version = 0;
  std::string claim_id;      // of the config being run
  std::string node_id;       // the cloud's id for this node, once known
  uint64_t connections = 0;  // sessions that reached online
  absl::Time last_connect = absl::InfinitePast();
  absl::Time last_disconnect = absl::InfinitePast();
  absl::Time next_attempt = absl::InfinitePast();  // wall time; none
  absl::Duration last_backoff = absl::ZeroDuration();
  mqtt::SessionCounters counters;  // summed over every connection
  uint64_t in_flight = 0;
  uint64_t queued = 0;
  // Publish path (with a Publisher).
  uint64_t publish_in_flight = 0;  // published, awaiting PUBACK
  uint64_t publish_held = 0;       // unacked, carried to the next connection
  uint64_t publish_timed_out = 0;  // failed with PUBLISH_TIMEOUT
  uint64_t publish_failed = 0;     // refused, too large or unknown topic
  uint64_t publish_resent = 0;     // sent again on a later connection
  // Enqueue → PUBACK latency over recent QoS 1 messages.
  absl::Duration latency_p50 = absl::ZeroDuration();
  absl::Duration latency_p99 = absl::ZeroDuration();
};

class CloudLink final : private ConnectionHost {
 public:
  using StatusCallback = std::function<void(const LinkStatus&)>;

  // `http`, `wss`, `clock` and `publisher` (optional: without one the link
  // publishes only its own messages) must outlive the link. `takeover`
  // tunes the clone detection (takeover_guard.h; tests shorten it).
  CloudLink(http::HttpClient* http, transport::WssConnector* wss, Clock* clock,
            StatusCallback on_status, publish::Publisher* publisher = nullptr,
            TakeoverGuard::Params takeover = TakeoverGuard::Params());
  ~CloudLink();  // Stop()s
  CloudLink(const CloudLink&) = delete;
  CloudLink& operator=(const CloudLink&) = delete;

  // Connects with `config`, replacing any earlier one: a session that is up
  // first says goodbye (UpdateAgentConnection reachable=false with the old
  // claim id) and disconnects. Clears a ban and any retry delay. A config
  // with another claim id starts the status's connection history (count,
  // last connect and disconnect, backoff) anew, in status() at once.
  void Start(LinkConfig config);

  // Leaves gracefully (reachable=false, ≤ 2 s for its PUBACK, DISCONNECT,
  // WebSocket close 1000) and stops connecting. Returns when done, at once
  // when the link is in an HTTPS call of env or login (it has no session
  // to leave; it drops the attempt when the call returns, and the
  // destructor waits for that), or after 5 s.
  void Stop();

  LinkStatus status() const;

  // Hands the link's publisher a spool opened after the start (the lib dir
  // was fixed; Publisher::AttachSpool) and drains it from now on. False,
  // changing nothing, when there is no publisher or it has a spool already.
  // `spool` must outlive the link. Thread-safe.
  bool AttachSpool(publish::Spool* spool);

 private:
  struct Command {
    bool start = false;
    bool stop = false;
    LinkConfig config;
  };

  // The link thread's body; holds link_thread_ throughout.
  void Run();
  // One connection attempt and, when it gets online, its whole life.
  // Returns how long to wait before the next attempt (InfiniteDuration
  // when banned).
  absl::Duration ConnectOnce(const LinkConfig& config)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(link_thread_);
  // Waits for a command up to `delay`. True when one arrived.
  bool WaitForCommand(absl::Duration delay);
  bool CommandPending();
  // The link thread is in env or login (or no longer).
  void SetInHttps(bool in_https);
  void Report(const std::function<void(LinkStatus&)>& change);
  void Fail(const absl::Status& why);
  // A Start for another claim: every message of the old one (pump, queue,
  // spool) fails with ABORTED RECLAIMED and is dropped.
  void FailOldClaimMessages(const std::string& old_claim_id);
  // Thread-safe: wakes the link thread for new publish work.
  void WakeForPublish();

  // ConnectionHost (link thread).
  bool Attach(Connection* connection) override;
  void Detach() override;
  bool LeaveRequested() override;
  void OnOnline() override;
  void OnStable() override;
  void OnNodeId(const std::string& node_id) override;
  void OnProgress() override;

  http::HttpClient* const http_;
  transport::WssConnector* const wss_;
  Clock* const clock_;
  const StatusCallback on_status_;
  publish::Publisher* const publisher_;

  mutable Mutex mu_;
  Command command_ ABSL_GUARDED_BY(mu_);
  bool has_command_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_done_ ABSL_GUARDED_BY(mu_) = true;
  bool in_https_ ABSL_GUARDED_BY(mu_) = false;  // env or login running
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  Connection* connection_ ABSL_GUARDED_BY(mu_) = nullptr;  // to Wake() it
  LinkStatus status_ ABSL_GUARDED_BY(mu_);

  // Link thread only: clang's analysis (--config=tsa) checks that only code
  // holding this role touches the members guarded by it, and debug builds
  // check at run time that the role's holder is the link thread. The
  // ConnectionHost callbacks assert it, as Connection calls them from
  // inside Run().
  ThreadRole link_thread_{"link thread"};
  Backoff backoff_ ABSL_GUARDED_BY(link_thread_){BackoffParams{}};
  TakeoverGuard takeover_ ABSL_GUARDED_BY(link_thread_);
  // When the current connection came online; InfiniteFuture: it is not.
  MonotonicTime online_since_ ABSL_GUARDED_BY(link_thread_) =
      MonotonicTime::InfiniteFuture();
  // The connection being run.
  Connection* current_ ABSL_GUARDED_BY(link_thread_) = nullptr;
  // The counters of connections that ended.
  mqtt::SessionCounters finished_counters_ ABSL_GUARDED_BY(link_thread_);
  // With a publisher. Set before the thread starts and reset after it is
  // joined; NoteWork() is thread-safe, the rest runs on the link thread.
  std::unique_ptr<PublishPump> pump_;
  std::thread thread_;
};

}  // namespace cloudlink::link

#pragma once

// The cloud link of a claimed node (SPEC section 4): env → login → WSS →
// MQTT 5 session, reconnecting with jittered backoff, honouring the cloud's
// retry advice, bans and DisconnectReq, and leaving gracefully.
//
// One thread, the link thread, owns everything network-side (the lws loop,
// the session); other threads only call the methods below, which hand the
// link thread a command and wake it. Status changes are reported through a
// callback that runs on the link thread and must not block or call back in.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/backoff.h"
#include "server/common/clock.h"
#include "server/config/environment.h"
#include "server/http/http_client.h"
#include "server/link/mqtt_session.h"

namespace cloudlink::link {

// Everything the link needs from a claim.
struct LinkConfig {
  std::string url;  // cloud base URL
  std::string claim_id;
  std::string machine_guid;
  std::string hostname;
  std::string proxy;  // raw setting ("env", "none", http://..., socks5://...)
  bool insecure = false;
  std::string ca_file;
  config::Environment env;  // for proxy "env"
  std::string private_key_pem;  // a secret
};

struct LinkStatus {
  bool active = false;  // Start()ed and not Stop()ped
  bool online = false;
  bool banned = false;
  std::string reason;  // why offline / banned; "" when online
  uint32_t mqtt_version = 0;
  uint64_t connections = 0;  // sessions that reached online
  absl::Time last_connect = absl::InfinitePast();
  absl::Time last_disconnect = absl::InfinitePast();
  absl::Time next_attempt = absl::InfinitePast();  // wall time; none
  absl::Duration last_backoff = absl::ZeroDuration();
  SessionCounters counters;
  uint64_t in_flight = 0;
  uint64_t queued = 0;
};

class CloudLink {
 public:
  using StatusCallback = std::function<void(const LinkStatus&)>;

  // `http` and `clock` must outlive the link.
  CloudLink(http::HttpClient* http, Clock* clock, StatusCallback on_status);
  ~CloudLink();  // Stop()s
  CloudLink(const CloudLink&) = delete;
  CloudLink& operator=(const CloudLink&) = delete;

  // Connects with `config`, replacing any earlier one: a session that is up
  // first says goodbye (UpdateAgentConnection reachable=false with the old
  // claim id) and disconnects. Clears a ban and any retry delay.
  void Start(LinkConfig config);

  // Leaves gracefully (reachable=false, ≤ 2 s for its PUBACK, DISCONNECT,
  // WebSocket close 1000) and stops connecting. Returns when done (≤ 5 s).
  void Stop();

  // Clears a ban and retry delays and connects now (ReloadClaimingState).
  void Reconnect();

  LinkStatus status() const;

 private:
  struct Command {
    bool start = false;
    bool stop = false;
    bool reconnect = false;
    LinkConfig config;
  };

  void Run();
  // One connection attempt and, when it gets online, its whole life.
  // Returns how long to wait before the next attempt (InfiniteDuration
  // when banned or stopping).
  absl::Duration ConnectOnce(const LinkConfig& config);
  // Waits for a command up to `delay`. True when one arrived.
  bool WaitForCommand(absl::Duration delay);
  void Report(const std::function<void(LinkStatus&)>& change);
  void Fail(const absl::Status& why);

  http::HttpClient* const http_;
  Clock* const clock_;
  const StatusCallback on_status_;

  mutable absl::Mutex mu_;
  Command command_ ABSL_GUARDED_BY(mu_);
  bool has_command_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_done_ ABSL_GUARDED_BY(mu_) = true;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  class Connection;
  Connection* connection_ ABSL_GUARDED_BY(mu_) = nullptr;  // to Wake() it
  LinkStatus status_ ABSL_GUARDED_BY(mu_);

  // Link thread only.
  Backoff backoff_{BackoffParams{}};
  std::thread thread_;
};

}  // namespace cloudlink::link

#include "server/link/cloud_link.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/cloud/cloud_api.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/version.h"
#include "server/config/env_proxy.h"
#include "server/config/proxy.h"
#include "server/http/transport_for.h"

namespace cloudlink::link {
namespace {

constexpr absl::Duration kConnectBudget = absl::Seconds(120);
// How long Stop() waits for the link thread to leave.
constexpr absl::Duration kStopWait = absl::Seconds(5);

mqtt::SessionCounters Sum(const mqtt::SessionCounters& a,
                          const mqtt::SessionCounters& b) {
  mqtt::SessionCounters sum;
  sum.published = a.published + b.published;
  sum.acked = a.acked + b.acked;
  sum.failed = a.failed + b.failed;
  sum.bytes = a.bytes + b.bytes;
  return sum;
}

absl::StatusOr<config::ProxyConfig> ResolveFor(const LinkConfig& config,
                                               const std::string& url) {
  absl::StatusOr<config::ProxyConfig> proxy = config::ParseProxy(config.proxy);
  if (!proxy.ok()) return proxy.status();
  return config::ResolveProxy(*proxy, config.env, url);
}

}  // namespace

CloudLink::CloudLink(http::HttpClient* http, transport::WssConnector* wss,
                     Clock* clock, StatusCallback on_status,
                     publish::Publisher* publisher,
                     TakeoverGuard::Params takeover)
    : http_(http),
      wss_(wss),
      clock_(clock),
      on_status_(std::move(on_status)),
      publisher_(publisher),
      takeover_(takeover) {
  if (publisher_ != nullptr) {
    pump_ = std::make_unique<PublishPump>(publisher_);
    publisher_->queue()->SetWakeCallback([this] { WakeForPublish(); });
    if (publisher_->spool() != nullptr) {
      publisher_->spool()->SetWakeCallback([this] { WakeForPublish(); });
    }
  }
  thread_ = std::thread([this] { Run(); });
}

bool CloudLink::AttachSpool(publish::Spool* spool) {
  if (publisher_ == nullptr || !publisher_->AttachSpool(spool)) return false;
  spool->SetWakeCallback([this] { WakeForPublish(); });
  WakeForPublish();
  return true;
}

void CloudLink::WakeForPublish() {
  pump_->NoteWork();
  MutexLock lock(&mu_);
  if (connection_ != nullptr) connection_->Wake();
}

CloudLink::~CloudLink() {
  if (publisher_ != nullptr) {
    publisher_->queue()->SetWakeCallback(nullptr);
    if (publisher_->spool() != nullptr) {
      publisher_->spool()->SetWakeCallback(nullptr);
    }
  }
  Stop();
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    if (connection_ != nullptr) connection_->Wake();
  }
  thread_.join();
  pump_.reset();  // fails what it still holds with SHUTTING_DOWN
}

void CloudLink::Start(LinkConfig config) {
  MutexLock lock(&mu_);
  if (config.claim_id != status_.claim_id) {
    // Another claim: its status starts now, not when the link thread is
    // back from a call of the old claim's (env, login), so that a caller
    // reading status() right after (the reclaim's reply) sees the new claim
    // and not the old session's connection history.
    status_.online = false;
    status_.mqtt_version = 0;
    status_.reason.clear();
    status_.reason_name.clear();
    // claim_id stays the one the link thread runs until it takes the
    // command (it decides which messages are the old claim's).
    status_.connections = 0;
    status_.last_connect = absl::InfinitePast();
    status_.last_disconnect = absl::InfinitePast();
    status_.next_attempt = absl::InfinitePast();
    status_.last_backoff = absl::ZeroDuration();
  }
  command_ = Command();
  command_.start = true;
  command_.config = std::move(config);
  has_command_ = true;
  stop_done_ = false;
  if (connection_ != nullptr) connection_->Wake();
}

void CloudLink::Stop() {
  MutexLock lock(&mu_);
  if (stop_done_ && !has_command_) return;
  command_ = Command();
  command_.stop = true;
  has_command_ = true;
  stop_done_ = false;
  if (connection_ != nullptr) connection_->Wake();
  // A link inside env or login has no session to leave; it drops the
  // attempt when the call returns (CommandPending), so there is nothing to
  // wait for.
  mu_.AwaitWithTimeout([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                           mu_) { return stop_done_ || in_https_; },
                       kStopWait);
}

LinkStatus CloudLink::status() const {
  MutexLock lock(&mu_);
  return status_;
}

void CloudLink::Report(const std::function<void(LinkStatus&)>& change) {
  LinkStatus copy;
  {
    MutexLock lock(&mu_);
    change(status_);
    copy = status_;
  }
  on_status_(copy);
}

void CloudLink::Fail(const absl::Status& why) {
  const absl::Time wall = clock_->WallNow();
  Report([&](LinkStatus& s) {
    if (s.online) s.last_disconnect = wall;
    s.online = false;
    s.mqtt_version = 0;
    s.reason = std::string(why.message());
    s.reason_name = ReasonOf(why);
  });
}

bool CloudLink::WaitForCommand(absl::Duration delay) {
  MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return has_command_ || shutdown_;
  };
  if (delay == absl::InfiniteDuration()) {
    mu_.Await(ready);
    return true;
  }
  return mu_.AwaitWithTimeout(ready, delay);
}

void CloudLink::Run() {
  ThreadRoleScope role(&link_thread_);
  LinkConfig config;
  bool have_config = false;
  // The claim the link last ran for (kept across Stop): messages stay with
  // it and are failed when a Start brings another claim.
  bool have_claim = false;
  std::string claim_id;
  bool banned = false;
  absl::Duration wait = absl::ZeroDuration();
  while (true) {
    Command command;
    bool got = false;
    {
      MutexLock lock(&mu_);
      if (shutdown_) return;
      if (has_command_) {
        command = std::move(command_);
        command_ = Command();
        has_command_ = false;
        got = true;
      }
    }
    if (got) {
      if (command.stop) {
        have_config = false;
        Report([](LinkStatus& s) {
          s.active = false;
          s.online = false;
          s.mqtt_version = 0;
          s.banned = false;
          s.reason.clear();
          s.reason_name.clear();
          s.next_attempt = absl::InfinitePast();
        });
        MutexLock lock(&mu_);
        stop_done_ = true;
        continue;
      }
      if (command.start) {
        if (have_claim && command.config.claim_id != claim_id) {
          FailOldClaimMessages(claim_id);
        }
        have_claim = true;
        claim_id = command.config.claim_id;
        config = std::move(command.config);
        have_config = true;
        backoff_.Reset();
        takeover_.Reset();
        Report([&](LinkStatus& s) {
          if (s.claim_id != config.claim_id) {
            // Another claim: its connection history starts empty.
            s.connections = 0;
            s.last_connect = absl::InfinitePast();
            s.last_disconnect = absl::InfinitePast();
            s.last_backoff = absl::ZeroDuration();
          }
          s.claim_id = config.claim_id;
          s.node_id = config.node_id;
        });
      }
      banned = false;
      wait = absl::ZeroDuration();
      Report([](LinkStatus& s) {
        s.active = true;
        s.banned = false;
        s.next_attempt = absl::InfinitePast();
      });
    }
    if (!have_config || banned) {
      WaitForCommand(absl::InfiniteDuration());
      continue;
    }
    if (wait > absl::ZeroDuration()) {
      const absl::Time wall = clock_->WallNow();
      const absl::Duration w = wait;
      Report([&](LinkStatus& s) {
        s.next_attempt = wall + w;
        s.last_backoff = w;
      });
      LogInfo(absl::StrCat("LINK: next connection attempt in ",
                           absl::FormatDuration(w)));
      if (WaitForCommand(wait)) continue;
    }
    wait = ConnectOnce(config);
    if (wait == absl::InfiniteDuration()) {
      banned = true;
      Report([](LinkStatus& s) {
        s.banned = true;
        s.next_attempt = absl::InfinitePast();
      });
    }
  }
}

void CloudLink::FailOldClaimMessages(const std::string& old_claim_id) {
  if (publisher_ == nullptr) return;
  const absl::Status why = Error(
      absl::StatusCode::kAborted, reason::kReclaimed,
      absl::StrCat("the node was reclaimed; this message of the old claim (",
                   old_claim_id, ") was dropped, not sent"));
  size_t failed = pump_->FailAll(why);
  failed += publisher_->queue()->FailAll(why);
  if (publisher_->spool() != nullptr)
    failed += publisher_->spool()->FailAll(why);
  LogWarning(absl::StrCat("LINK: reclaimed: ", failed,
                          " messages of the old claim ", old_claim_id,
                          " were dropped (RECLAIMED)"));
  OnProgress();
}

void CloudLink::SetInHttps(bool in_https) {
  MutexLock lock(&mu_);
  in_https_ = in_https;
}

bool CloudLink::CommandPending() {
  MutexLock lock(&mu_);
  return has_command_ || shutdown_;
}

absl::Duration CloudLink::ConnectOnce(const LinkConfig& config) {
  Report([](LinkStatus& s) { s.next_attempt = absl::InfinitePast(); });
  if (config.insecure) {
    LogWarning(absl::StrCat(
        "LINK: insecure = yes: the cloud's TLS certificates and host names "
        "are NOT verified on this connection to ",
        config.url,
        "; anyone on the path can impersonate the cloud. Set insecure = no "
        "(claim.conf, then reload-claiming-state)"));
  }
  absl::StatusOr<http::TransportOptions> transport = http::TransportFor(
      config.proxy, config.env, config.url, config.insecure, config.ca_file);
  if (!transport.ok()) {
    Fail(transport.status());
    return backoff_.Next();
  }
  cloud::CloudApi api(http_, *transport, config.url, config.claim_id,
                      kAgentVersion);

  cloud::RetryAdvice advice;
  // Until the login's end a Stop need not wait for the link (see Stop).
  SetInHttps(true);
  absl::StatusOr<cloud::LinkEnv> env = api.GetEnv(&advice);
  // The cloud's backoff applies from the moment it is known, also to a
  // login that fails after it.
  if (env.ok()) backoff_.SetParams(env->backoff);
  // A command that arrived during env (an HTTPS call that may take long)
  // goes first: no login for a claim that is being replaced or stopped.
  if (CommandPending()) {
    SetInHttps(false);
    return absl::ZeroDuration();
  }
  absl::StatusOr<cloud::LoginCredentials> creds =
      env.ok() ? api.Login(*env, config.private_key_pem, &advice)
               : absl::StatusOr<cloud::LoginCredentials>(env.status());
  SetInHttps(false);
  if (CommandPending()) return absl::ZeroDuration();
  if (!creds.ok()) {
    LogError(absl::StrCat("LINK: ", creds.status().message()));
    Fail(creds.status());
    if (advice.banned) return absl::InfiniteDuration();
    return std::max(backoff_.Next(), advice.not_before);
  }

  ConnectionParams params;
  params.claim_id = config.claim_id;
  params.machine_guid = config.machine_guid;
  params.hostname = config.hostname;
  params.node_id = status().node_id;
  params.session_id = absl::ToUnixSeconds(clock_->WallNow());
  params.credentials = *std::move(creds);
  params.target.url = env->mqtt_endpoint;
  absl::StatusOr<config::ProxyConfig> wss_proxy =
      ResolveFor(config, params.target.url);
  if (!wss_proxy.ok()) {
    Fail(wss_proxy.status());
    return backoff_.Next();
  }
  params.target.proxy = *wss_proxy;
  params.target.insecure = config.insecure;
  params.target.ca_file = config.ca_file;
  params.target.connect_budget = kConnectBudget;
  params.connect_budget = kConnectBudget;

  Connection connection(this, clock_, pump_.get(), std::move(params));
  current_ = &connection;
  connection.Run(wss_);
  finished_counters_ = Sum(finished_counters_, connection.counters());
  current_ = nullptr;
  OnProgress();

  absl::Status why = connection.close_reason();
  const bool command_pending = CommandPending();
  const MonotonicTime ended = clock_->MonotonicNow();
  const bool was_online = online_since_ != MonotonicTime::InfiniteFuture();
  const absl::Duration online_for =
      was_online ? ended - online_since_ : absl::ZeroDuration();
  online_since_ = MonotonicTime::InfiniteFuture();
  // Clone detection (takeover_guard.h): the broker's 0x8E, or a close by
  // the broker with no reason soon after the session was accepted.
  const bool taken_over =
      MetadataOf(why)[mqtt::kDisconnectReasonCodeKey] == "0x8E";
  const bool abrupt = !taken_over && was_online && !command_pending &&
                      HasReason(why, reason::kConnectionLost);
  if (!taken_over && !abrupt && was_online) takeover_.OnOtherEnd(online_for);
  if (why.ok()) {
    why = Error(absl::StatusCode::kUnavailable, reason::kDisconnected,
                "the link was closed");
    if (command_pending) {
      LogInfo("LINK: disconnected as asked");
    } else {
      LogWarning(absl::StrCat("LINK: offline: ", why.message()));
    }
  } else {
    LogWarning(absl::StrCat("LINK: offline: ", why.message()));
  }
  if (connection.banned()) {
    Fail(why);
    return absl::InfiniteDuration();
  }
  absl::Duration delay =
      command_pending ? absl::ZeroDuration()
                      : std::max(backoff_.Next(), connection.cloud_delay());
  const bool repeated =
      taken_over ? takeover_.OnTakenOver(ended)
                 : abrupt && takeover_.OnAbruptEnd(ended, online_for);
  if (repeated && !command_pending) {
    // Another node runs with this claim id: back off instead of taking the
    // session back every few seconds.
    delay = std::max(delay, takeover_.MinDelay());
    const TakeoverGuard::Params& guard = takeover_.params();
    const std::string evidence =
        taken_over
            ? absl::StrCat(
                  "the broker gave this node's session to another client ",
                  guard.takeovers, " times within ",
                  absl::FormatDuration(guard.window),
                  " (MQTT reason 0x8E, session taken over)")
            : absl::StrCat(
                  "the broker closed this node's session ", guard.takeovers,
                  " times within ", absl::FormatDuration(guard.window),
                  ", each within ", absl::FormatDuration(guard.abrupt_session),
                  " of accepting it and with no reason given, which is how a "
                  "broker that does not send MQTT reason 0x8E ends a session "
                  "another client took over (if no clone exists, something "
                  "on the path closes the connections)");
    why = Error(absl::StatusCode::kUnavailable, reason::kSessionTakenOver,
                absl::StrCat(taken_over ? "" : "probably ",
                             "another node uses this claim id (",
                             config.claim_id, "): ", evidence,
                             "; on the cloned machine run `cloudlinkctl "
                             "reclaim --new-identity`; the next attempt is in ",
                             absl::FormatDuration(delay)));
    LogWarning(absl::StrCat("LINK: ", why.message()));
  }
  Fail(why);
  return delay;
}

bool CloudLink::Attach(Connection* connection) {
  MutexLock lock(&mu_);
  connection_ = connection;
  return has_command_ || shutdown_;
}

void CloudLink::Detach() {
  MutexLock lock(&mu_);
  connection_ = nullptr;
}

bool CloudLink::LeaveRequested() {
  MutexLock lock(&mu_);
  return shutdown_ || (has_command_ && (command_.stop || command_.start));
}

void CloudLink::OnOnline() {
  link_thread_.AssertHeld();
  online_since_ = clock_->MonotonicNow();
  const absl::Time wall = clock_->WallNow();
  Report([&](LinkStatus& s) {
    s.online = true;
    s.reason.clear();
    s.reason_name.clear();
    s.mqtt_version = 5;
    ++s.connections;
    s.last_connect = wall;
    s.next_attempt = absl::InfinitePast();
  });
}

void CloudLink::OnStable() {
  link_thread_.AssertHeld();
  backoff_.Reset();
}

void CloudLink::OnNodeId(const std::string& node_id) {
  Report([&](LinkStatus& s) { s.node_id = node_id; });
}

void CloudLink::OnProgress() {
  link_thread_.AssertHeld();
  mqtt::SessionCounters counters = finished_counters_;
  uint64_t in_flight = 0;
  uint64_t queued = 0;
  if (current_ != nullptr) {
    counters = Sum(counters, current_->counters());
    in_flight = current_->session_in_flight();
    queued = current_->session_queued();
  }
  const PumpStatus pump = pump_ ? pump_->status() : PumpStatus();
  Report([&](LinkStatus& s) {
    s.counters = counters;
    s.in_flight = in_flight;
    s.queued = queued;
    s.publish_in_flight = pump.in_flight;
    s.publish_held = pump.held;
    s.publish_timed_out = pump.timed_out;
    s.publish_failed = pump.failed;
    s.publish_resent = pump.resent;
    s.latency_p50 = pump.latency_p50;
    s.latency_p99 = pump.latency_p99;
  });
}

}  // namespace cloudlink::link

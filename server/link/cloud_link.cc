#include "server/link/cloud_link.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aclk/v1/agent_connection.pb.h"
#include "aclk/v1/disconnect.pb.h"
#include "server/cloud/cloud_api.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/version.h"
#include "server/config/env_proxy.h"
#include "server/config/proxy.h"
#include "server/http/transport_for.h"
#include "server/link/window_refill.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::link {
namespace {

constexpr absl::Duration kConnectBudget = absl::Seconds(120);
constexpr absl::Duration kGoodbyeWait = absl::Seconds(2);
constexpr absl::Duration kCloseWait = absl::Seconds(2);
constexpr absl::Duration kMaxServiceWait = absl::Seconds(1);
// PUBACKs on one connection after which it counts as stable (SPEC 4).
constexpr int kStableAcks = 3;
// Publish pump: messages taken per batch, bytes per batch, and the
// transport backlog above which no more messages are handed to it (this
// bounds QoS 0, which the Receive Maximum does not).
constexpr size_t kPumpBatch = 256;
constexpr size_t kPumpBytes = size_t{1} << 20;
constexpr size_t kMaxTransportBacklog = size_t{4} << 20;

void Complete(publish::Message& message, const absl::Status& outcome) {
  if (!message.done) return;
  publish::Completion done = std::move(message.done);
  message.done = nullptr;
  done(outcome);
}

mqtt::SessionCounters Sum(const mqtt::SessionCounters& a,
                          const mqtt::SessionCounters& b) {
  mqtt::SessionCounters sum;
  sum.published = a.published + b.published;
  sum.acked = a.acked + b.acked;
  sum.resent = a.resent + b.resent;
  sum.failed = a.failed + b.failed;
  sum.bytes = a.bytes + b.bytes;
  return sum;
}

std::string AgentConnectionPayload(const std::string& claim_id, bool reachable,
                                   int64_t session_id,
                                   aclk::v1::ConnectionUpdateSource source,
                                   absl::Time wall_now) {
  aclk::v1::UpdateAgentConnection message;
  message.set_claim_id(claim_id);
  message.set_reachable(reachable);
  message.set_session_id(session_id);
  message.set_update_source(source);
  const int64_t nanos = absl::ToUnixNanos(wall_now);
  message.mutable_updated_at()->set_seconds(nanos / 1000000000);
  message.mutable_updated_at()->set_nanos(
      static_cast<int32_t>(nanos % 1000000000));
  if (reachable) {
    aclk::v1::Capability* proto = message.add_capabilities();
    proto->set_name("proto");
    proto->set_version(1);
    proto->set_enabled(true);
  }
  return message.SerializeAsString();
}

absl::StatusOr<config::ProxyConfig> ResolveFor(const LinkConfig& config,
                                               const std::string& url) {
  absl::StatusOr<config::ProxyConfig> proxy = config::ParseProxy(config.proxy);
  if (!proxy.ok()) return proxy.status();
  return config::ResolveProxy(*proxy, config.env, url);
}

}  // namespace

// One WSS connection and its MQTT session, run on the link thread.
class CloudLink::Connection : public transport::WssListener {
 public:
  Connection(CloudLink* link, const LinkConfig& config,
             const cloud::LoginCredentials& creds, int64_t session_id)
      : link_(link),
        config_(config),
        agent_topic_(creds.topics.at("agent-connection")),
        session_id_(session_id) {
    auto inbox = creds.topics.find("inbox-cmd");
    if (inbox != creds.topics.end()) inbox_topic_ = inbox->second;
    mqtt::SessionConfig sc;
    sc.client_id = creds.client_id;
    sc.username = creds.username;
    sc.password = creds.password;
    sc.will_topic = agent_topic_;
    sc.will_payload = AgentConnectionPayload(
        config.claim_id, false, session_id,
        aclk::v1::CONNECTION_UPDATE_SOURCE_LWT, link->clock_->WallNow());
    if (!inbox_topic_.empty()) sc.subscribe_filter = inbox_topic_ + "/#";
    session_ = std::make_unique<mqtt::MqttSession>(std::move(sc));
    topics_ = creds.topics;
    if (link_->publisher_ != nullptr) {
      std::vector<std::string> names;
      for (const auto& entry : topics_) names.push_back(entry.first);
      link_->publisher_->SetTopicNames(names);
    }
  }

  // Runs the connection until it closes. Returns the delay the cloud asked
  // for (DisconnectReq), zero otherwise.
  void Run(const transport::WssTarget& target) {
    absl::StatusOr<std::unique_ptr<transport::WssConnection>> wss =
        transport::WssConnection::Connect(target, this);
    if (!wss.ok()) {
      close_reason_ = wss.status();
      return;
    }
    wss_ = std::move(*wss);
    {
      MutexLock lock(&link_->mu_);
      link_->connection_ = this;
    }
    const absl::Time open_deadline = Now() + kConnectBudget;
    while (!closed_) {
      const absl::Time now = Now();
      if (wake_) {
        wake_ = false;
        MutexLock lock(&link_->mu_);
        if (link_->has_command_ &&
            (link_->command_.stop || link_->command_.start)) {
          leave_requested_ = true;
        }
      }
      if (!opened_ && now >= open_deadline) {
        CloseWith(Error(absl::StatusCode::kUnavailable, "CONNECT_TIMEOUT",
                        absl::StrCat("the connection was not up within ",
                                     absl::FormatDuration(kConnectBudget))));
      }
      if (opened_ && !closing_) {
        std::string out;
        absl::Status tick = session_->OnTick(now, &out);
        Flush(out);
        if (!tick.ok()) CloseWith(tick);
      }
      if (opened_ && !closing_ && !leaving_) PumpPublish(now);
      if (deadlines_in_flight_ > 0) ExpireInFlight(now);
      if (leave_requested_ && !leaving_ && !closing_) BeginLeave(now);
      if (leaving_ && !closing_ &&
          (goodbye_acked_ || now >= leave_deadline_ ||
           !session_->connected())) {
        std::string out;
        if (session_->connected()) session_->Disconnect(&out);
        Flush(out);
        CloseWith(absl::OkStatus());
      }
      if (closing_ && now >= close_deadline_) break;  // the peer never closed
      absl::Duration wait = kMaxServiceWait;
      if (leaving_ || closing_) wait = absl::Milliseconds(50);
      if (opened_ && !closing_) {
        wait = std::min(
            wait, std::max(absl::ZeroDuration(), session_->NextTick() - now));
        wait = std::min(
            wait, std::max(absl::ZeroDuration(), refill_.deadline() - now));
      }
      wss_->Service(wait);
    }
    {
      MutexLock lock(&link_->mu_);
      link_->connection_ = nullptr;
    }
    wss_.reset();
    // Unacknowledged messages go first on the next connection, in the order
    // they were sent (the map is ordered by session message id).
    std::deque<publish::Message> carried;
    for (auto& entry : in_flight_) carried.push_back(std::move(entry.second));
    in_flight_.clear();
    for (publish::Message& m : link_->carried_) carried.push_back(std::move(m));
    link_->carried_.swap(carried);
    link_->finished_counters_ =
        Sum(link_->finished_counters_, session_->counters());
    ReportPublish(/*finished=*/true);
  }

  // Thread-safe.
  void Wake() {
    if (wss_) wss_->Wake();
  }

  bool reached_online() const { return reached_online_; }
  bool banned() const { return banned_; }
  absl::Duration cloud_delay() const { return cloud_delay_; }
  const absl::Status& close_reason() const { return close_reason_; }

  // WssListener (link thread).
  void OnOpen() override {
    opened_ = true;
    std::string out;
    session_->Begin(Now(), &out);
    Flush(out);
  }

  void OnData(absl::string_view bytes) override {
    std::string out;
    absl::Status status = session_->OnBytes(bytes, Now(), &out);
    Flush(out);
    HandleEvents();
    if (!status.ok()) CloseWith(status);
  }

  void OnClosed(const absl::Status& why) override {
    closed_ = true;
    if (close_reason_.ok() && !closing_) close_reason_ = why;
    if (close_reason_.ok() && !why.ok() && !leaving_) close_reason_ = why;
  }

  void OnTimer() override {}
  void OnWake() override { wake_ = true; }

 private:
  absl::Time Now() { return link_->clock_->MonotonicNow(); }

  // Moves publish work into the session while the window and the transport
  // backlog allow (see cloud_link.h), in batches of at least half a window
  // (window_refill.h) so that many packets share a frame and a TLS write.
  void PumpPublish(absl::Time now) {
    publish::Publisher* publisher = link_->publisher_;
    if (publisher == nullptr || !session_->connected()) return;
    const size_t window =
        std::max<size_t>(1, session_->server_receive_maximum());
    const bool work_waiting = more_waiting_ || !link_->carried_.empty() ||
                              link_->publish_wake_pending_.load();
    if (!refill_.Due(window, session_->in_flight() + session_->queued(),
                     work_waiting, now)) {
      return;  // Run() wakes by refill_.deadline()
    }
    refill_.Refilled(now);
    link_->publish_wake_pending_.store(false);
    std::string out;
    bool sent = false;
    more_waiting_ = true;  // until a source comes back empty
    while (true) {
      const size_t busy = session_->in_flight() + session_->queued();
      if (busy >= window) break;
      if (wss_->pending_bytes() + out.size() >= kMaxTransportBacklog) break;
      const size_t room = std::min(window - busy, kPumpBatch);
      std::vector<publish::Message> batch;
      if (!link_->carried_.empty()) {
        while (!link_->carried_.empty() && batch.size() < room) {
          batch.push_back(std::move(link_->carried_.front()));
          link_->carried_.pop_front();
        }
        link_->publish_resent_ += batch.size();
      } else {
        publish::Spool* spool = publisher->spool();
        if (spool_turn_ && spool != nullptr) {
          batch = spool->TakeReady(room, kPumpBytes);
        }
        if (batch.empty())
          batch = publisher->queue()->TakeBatch(room, kPumpBytes);
        if (batch.empty() && !spool_turn_ && spool != nullptr) {
          batch = spool->TakeReady(room, kPumpBytes);
        }
        spool_turn_ = !spool_turn_;
      }
      if (batch.empty()) {
        more_waiting_ = false;
        break;
      }
      for (publish::Message& message : batch) {
        Send(std::move(message), now, &out);
      }
      sent = true;
    }
    if (!sent) return;
    Flush(out);
    HandleEvents();  // e.g. a message too large for the server
    // QoS 0 is done once handed to the transport.
    for (uint64_t id : qos0_written_) {
      auto it = in_flight_.find(id);
      if (it == in_flight_.end()) continue;
      Complete(it->second, absl::OkStatus());
      in_flight_.erase(it);
    }
    qos0_written_.clear();
    ReportPublish(false);
  }

  void Send(publish::Message message, absl::Time now, std::string* out) {
    if (message.deadline <= now) {
      ++link_->publish_timed_out_;
      Complete(message, PublishTimeout());
      return;
    }
    auto topic = topics_.find(message.topic);
    if (topic == topics_.end()) {
      DropPublish(message,
                  Error(absl::StatusCode::kInvalidArgument, "TOPIC_UNKNOWN",
                        absl::StrCat("\"", message.topic,
                                     "\" is not in the cloud's "
                                     "topic map")));
      return;
    }
    const uint8_t qos =
        message.level == publish::DeliveryLevel::kAtMostOnce ? 0 : 1;
    const uint64_t id =
        session_->Publish(topic->second, message.payload, qos, now, out);
    if (qos == 0) qos0_written_.push_back(id);
    if (message.deadline != absl::InfiniteFuture()) ++deadlines_in_flight_;
    in_flight_.emplace(id, std::move(message));
  }

  // Fails a message for good; a spooled one leaves the spool (logged).
  void DropPublish(publish::Message& message, const absl::Status& why) {
    ++link_->publish_failed_;
    if (message.spool_sequence != 0) {
      LogWarning(absl::StrCat("LINK: dropping spooled message ",
                              message.spool_sequence, ": ", why.message()));
      link_->publisher_->spool()->Ack(message.spool_sequence);
    }
    Complete(message, why);
  }

  static absl::Status PublishTimeout() {
    return Error(absl::StatusCode::kDeadlineExceeded, "PUBLISH_TIMEOUT",
                 "the message was not acknowledged by the broker before its "
                 "deadline");
  }

  void ExpireInFlight(absl::Time now) {
    deadlines_in_flight_ = 0;
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second.deadline == absl::InfiniteFuture()) {
        ++it;
      } else if (it->second.deadline <= now) {
        ++link_->publish_timed_out_;
        Complete(it->second, PublishTimeout());
        it = in_flight_.erase(it);
      } else {
        ++deadlines_in_flight_;
        ++it;
      }
    }
  }

  void OnPublishAcked(uint64_t id) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    publish::Message& message = it->second;
    link_->latency_.Record(Now() - message.enqueued);
    if (message.spool_sequence != 0) {
      link_->publisher_->spool()->Ack(message.spool_sequence);
    }
    Complete(message, absl::OkStatus());
    in_flight_.erase(it);
  }

  void OnPublishFailed(const mqtt::SessionEvent& event) {
    auto it = in_flight_.find(event.message_id);
    if (it == in_flight_.end()) return;
    const bool too_large =
        event.reason_code == mqtt::mqtt_reason::kPacketTooLarge;
    DropPublish(it->second, too_large
                                ? Error(absl::StatusCode::kInvalidArgument,
                                        "MESSAGE_TOO_LARGE", event.reason)
                                : Error(absl::StatusCode::kFailedPrecondition,
                                        "PUBLISH_REFUSED", event.reason));
    in_flight_.erase(it);
  }

  void ReportPublish(bool finished) {
    const mqtt::SessionCounters counters =
        finished ? link_->finished_counters_
                 : Sum(link_->finished_counters_, session_->counters());
    const uint64_t in_flight = finished ? 0 : session_->in_flight();
    const uint64_t queued = finished ? 0 : session_->queued();
    const uint64_t publish_in_flight = finished ? 0 : in_flight_.size();
    const uint64_t held = link_->carried_.size();
    CloudLink* link = link_;
    const absl::Duration p50 = link->latency_.Percentile(0.5);
    const absl::Duration p99 = link->latency_.Percentile(0.99);
    link_->Report([&](LinkStatus& s) {
      s.counters = counters;
      s.in_flight = in_flight;
      s.queued = queued;
      s.publish_in_flight = publish_in_flight;
      s.publish_held = held;
      s.publish_timed_out = link->publish_timed_out_;
      s.publish_failed = link->publish_failed_;
      s.publish_resent = link->publish_resent_;
      s.latency_p50 = p50;
      s.latency_p99 = p99;
    });
  }

  void Flush(const std::string& out) {
    if (!out.empty() && wss_ && opened_) wss_->Send(out);
  }

  void CloseWith(const absl::Status& why) {
    if (closing_) return;
    closing_ = true;
    close_deadline_ = Now() + kCloseWait;
    if (close_reason_.ok()) close_reason_ = why;
    wss_->Close();
  }

  void BeginLeave(absl::Time now) {
    leaving_ = true;
    leave_deadline_ = now + kGoodbyeWait;
    if (!session_->connected()) return;
    std::string out;
    goodbye_id_ = session_->Publish(
        agent_topic_,
        AgentConnectionPayload(config_.claim_id, false, session_id_,
                               aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT,
                               link_->clock_->WallNow()),
        1, now, &out);
    Flush(out);
    LogInfo(absl::StrCat("LINK: leaving; announced reachable=false for ",
                         config_.claim_id));
  }

  void HandleEvents() {
    for (mqtt::SessionEvent& event : session_->TakeEvents()) {
      switch (event.type) {
        case mqtt::SessionEvent::Type::kConnected: {
          reached_online_ = true;
          std::string out;
          session_->Publish(
              agent_topic_,
              AgentConnectionPayload(config_.claim_id, true, session_id_,
                                     aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT,
                                     link_->clock_->WallNow()),
              1, Now(), &out);
          Flush(out);
          LogInfo(absl::StrCat("LINK: online as ", config_.claim_id,
                               " (MQTT 5, Receive Maximum ",
                               session_->server_receive_maximum(), ")"));
          const absl::Time wall = link_->clock_->WallNow();
          link_->Report([&](LinkStatus& s) {
            s.online = true;
            s.reason.clear();
            s.mqtt_version = 5;
            ++s.connections;
            s.last_connect = wall;
            s.next_attempt = absl::InfinitePast();
          });
          break;
        }
        case mqtt::SessionEvent::Type::kAcked:
          if (++acks_ == kStableAcks) link_->backoff_.Reset();
          if (event.message_id == goodbye_id_) goodbye_acked_ = true;
          OnPublishAcked(event.message_id);
          break;
        case mqtt::SessionEvent::Type::kPublishFailed:
          LogWarning(absl::StrCat("LINK: message ", event.message_id,
                                  " not delivered: ", event.reason));
          OnPublishFailed(event);
          break;
        case mqtt::SessionEvent::Type::kSubscribeFailed:
          LogError(absl::StrCat("LINK: ", event.reason));
          break;
        case mqtt::SessionEvent::Type::kMessage:
          HandleInbound(event);
          break;
      }
    }
    ReportPublish(false);
  }

  void HandleInbound(const mqtt::SessionEvent& event) {
    if (inbox_topic_.empty() || !absl::StartsWith(event.topic, inbox_topic_)) {
      LogDebug(absl::StrCat("LINK: message on unexpected topic ", event.topic));
      return;
    }
    const size_t slash = event.topic.rfind('/');
    const std::string type = event.topic.substr(slash + 1);
    if (type != "DisconnectReq") {
      LogDebug(absl::StrCat("LINK: ignoring cloud message ", type));
      return;
    }
    aclk::v1::DisconnectReq request;
    if (!request.ParseFromString(event.payload)) {
      LogWarning("LINK: ignoring a DisconnectReq that does not parse");
      return;
    }
    const std::string detail =
        absl::StrCat("error code ", request.error_code(),
                     request.error_description().empty()
                         ? ""
                         : absl::StrCat(": ", request.error_description()));
    if (request.permaban()) {
      banned_ = true;
      CloseReasonForLeave(
          Error(absl::StatusCode::kPermissionDenied, "BANNED",
                absl::StrCat("the cloud banned this node (", detail,
                             "); fix the cause, then ReloadClaimingState or "
                             "Reclaim")));
    } else {
      cloud_delay_ = absl::Seconds(
          std::min<uint64_t>(request.reconnect_after_seconds(), 7 * 86400));
      CloseReasonForLeave(
          Error(absl::StatusCode::kUnavailable, "CLOUD_DISCONNECT",
                absl::StrCat("the cloud asked the node to reconnect after ",
                             request.reconnect_after_seconds(), " s (", detail,
                             ")")));
    }
    LogWarning(absl::StrCat("LINK: ", close_reason_.message()));
    leave_requested_ = true;
  }

  void CloseReasonForLeave(absl::Status why) { close_reason_ = std::move(why); }

  CloudLink* const link_;
  const LinkConfig config_;
  const std::string agent_topic_;
  std::string inbox_topic_;
  const int64_t session_id_;
  std::unique_ptr<mqtt::MqttSession> session_;
  std::unique_ptr<transport::WssConnection> wss_;
  std::map<std::string, std::string> topics_;  // login's name → topic
  // Publisher messages handed to the session, by session message id.
  std::map<uint64_t, publish::Message> in_flight_;
  std::vector<uint64_t> qos0_written_;
  size_t deadlines_in_flight_ = 0;
  bool spool_turn_ = true;
  WindowRefill refill_;
  // The last pump stopped before its sources ran dry (the window or the
  // transport backlog was full).
  bool more_waiting_ = false;

  bool opened_ = false;
  bool closed_ = false;
  bool closing_ = false;
  bool wake_ = false;
  bool leave_requested_ = false;
  bool leaving_ = false;
  bool goodbye_acked_ = false;
  bool reached_online_ = false;
  bool banned_ = false;
  uint64_t goodbye_id_ = 0;
  int acks_ = 0;
  absl::Time leave_deadline_;
  absl::Time close_deadline_ = absl::InfiniteFuture();
  absl::Duration cloud_delay_ = absl::ZeroDuration();
  absl::Status close_reason_;
};

CloudLink::CloudLink(http::HttpClient* http, Clock* clock,
                     StatusCallback on_status, publish::Publisher* publisher)
    : http_(http),
      clock_(clock),
      on_status_(std::move(on_status)),
      publisher_(publisher) {
  if (publisher_ != nullptr) {
    publisher_->queue()->SetWakeCallback([this] { WakeForPublish(); });
    if (publisher_->spool() != nullptr) {
      publisher_->spool()->SetWakeCallback([this] { WakeForPublish(); });
    }
  }
  thread_ = std::thread([this] { Run(); });
}

void CloudLink::WakeForPublish() {
  if (publish_wake_pending_.exchange(true)) return;
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
  const absl::Status why =
      Error(absl::StatusCode::kUnavailable, "SHUTTING_DOWN",
            "cloudlinkd is stopping before the broker acknowledged the "
            "message");
  for (publish::Message& message : carried_) Complete(message, why);
}

void CloudLink::Start(LinkConfig config) {
  MutexLock lock(&mu_);
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
  mu_.AwaitWithTimeout(&stop_done_, absl::Seconds(5));
}

void CloudLink::Reconnect() {
  MutexLock lock(&mu_);
  if (has_command_) {
    command_.reconnect = true;
  } else {
    command_ = Command();
    command_.reconnect = true;
    has_command_ = true;
  }
  if (connection_ != nullptr) connection_->Wake();
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
  LinkConfig config;
  bool have_config = false;
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
          s.next_attempt = absl::InfinitePast();
        });
        MutexLock lock(&mu_);
        stop_done_ = true;
        continue;
      }
      if (command.start) {
        config = std::move(command.config);
        have_config = true;
        backoff_.Reset();
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

absl::Duration CloudLink::ConnectOnce(const LinkConfig& config) {
  Report([](LinkStatus& s) { s.next_attempt = absl::InfinitePast(); });
  absl::StatusOr<http::TransportOptions> transport = http::TransportFor(
      config.proxy, config.env, config.url, config.insecure, config.ca_file);
  if (!transport.ok()) {
    Fail(transport.status());
    return backoff_.Next();
  }
  cloud::CloudApi api(http_, *transport, config.url, config.claim_id,
                      kAgentVersion);

  cloud::RetryAdvice advice;
  absl::StatusOr<cloud::LinkEnv> env = api.GetEnv(&advice);
  // The cloud's backoff applies from the moment it is known, also to a
  // login that fails after it.
  if (env.ok()) backoff_.SetParams(env->backoff);
  absl::StatusOr<cloud::LoginCredentials> creds =
      env.ok() ? api.Login(*env, config.private_key_pem, &advice)
               : absl::StatusOr<cloud::LoginCredentials>(env.status());
  if (!creds.ok()) {
    LogError(absl::StrCat("LINK: ", creds.status().message()));
    Fail(creds.status());
    if (advice.banned) return absl::InfiniteDuration();
    return std::max(backoff_.Next(), advice.not_before);
  }

  transport::WssTarget target;
  target.url = env->mqtt_endpoint;
  absl::StatusOr<config::ProxyConfig> wss_proxy =
      ResolveFor(config, target.url);
  if (!wss_proxy.ok()) {
    Fail(wss_proxy.status());
    return backoff_.Next();
  }
  target.proxy = *wss_proxy;
  target.insecure = config.insecure;
  target.ca_file = config.ca_file;
  target.connect_budget = kConnectBudget;

  const int64_t session_id = absl::ToUnixSeconds(clock_->WallNow());
  Connection connection(this, config, *creds, session_id);
  connection.Run(target);

  absl::Status why = connection.close_reason();
  bool command_pending;
  {
    MutexLock lock(&mu_);
    command_pending = has_command_;
  }
  if (why.ok()) {
    why = Error(absl::StatusCode::kUnavailable, "DISCONNECTED",
                "the link was closed");
  }
  if (command_pending && ReasonOf(why) == "DISCONNECTED") {
    LogInfo("LINK: disconnected as asked");
  } else {
    LogWarning(absl::StrCat("LINK: offline: ", why.message()));
  }
  Fail(why);
  if (connection.banned()) return absl::InfiniteDuration();
  if (command_pending) return absl::ZeroDuration();
  return std::max(backoff_.Next(), connection.cloud_delay());
}

}  // namespace cloudlink::link

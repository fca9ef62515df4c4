#include "server/link/connection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/link/aclk_messages.h"
#include "server/mqtt/mqtt_packet.h"
#include "server/publish/completion_batch.h"

namespace cloudlink::link {
namespace {

constexpr char kAgentConnection[] = "agent-connection";
constexpr char kInbox[] = "inbox-cmd";
constexpr char kCreateNodeInstance[] = "create-node-instance";
constexpr char kNodeInstanceConnection[] = "node-instance-connection";
// While leaving or closing, the loop looks at its deadlines this often.
constexpr absl::Duration kShutdownPoll = absl::Milliseconds(50);

std::string TopicIn(const cloud::LoginCredentials& credentials,
                    const std::string& name) {
  auto it = credentials.topics.find(name);
  return it == credentials.topics.end() ? std::string() : it->second;
}

mqtt::SessionConfig SessionConfigFor(const ConnectionParams& params,
                                     absl::Time wall_now) {
  mqtt::SessionConfig config;
  config.client_id = params.credentials.client_id;
  config.username = params.credentials.username;
  config.password = params.credentials.password;
  config.will_topic = TopicIn(params.credentials, kAgentConnection);
  config.will_payload =
      AgentConnectionPayload(params.claim_id, /*reachable=*/false,
                             params.session_id, /*as_will=*/true, wall_now);
  const std::string inbox = TopicIn(params.credentials, kInbox);
  if (!inbox.empty()) config.subscribe_filter = inbox + "/#";
  return config;
}

}  // namespace

Connection::Connection(ConnectionHost* host, Clock* clock, PublishPump* pump,
                       ConnectionParams params)
    : host_(host),
      clock_(clock),
      pump_(pump),
      params_(std::move(params)),
      agent_topic_(TopicIn(params_.credentials, kAgentConnection)),
      inbox_topic_(TopicIn(params_.credentials, kInbox)),
      session_(SessionConfigFor(params_, clock->WallNow())) {
  if (pump_ != nullptr) pump_->BeginConnection(params_.credentials.topics);
}

Connection::~Connection() = default;

void Connection::Run(transport::WssConnector* connector) {
  absl::StatusOr<std::unique_ptr<transport::WssConnection>> wss =
      connector->Connect(params_.target, this);
  if (!wss.ok()) {
    close_reason_ = wss.status();
    return;
  }
  wss_ = *std::move(wss);
  // A command posted while env and login ran found no connection to wake.
  if (host_->Attach(this)) leave_requested_ = true;
  open_deadline_ = Now() + params_.connect_budget;
  while (!closed_) {
    const MonotonicTime now = Now();
    if (closing_ && now >= close_deadline_) break;  // the peer never closed
    {
      // Every message completed in this pass (PUBACKs, QoS 0 hand-overs,
      // deadlines) reaches its producer's stream at once, when the batch
      // closes: one lock and one write per stream and pass.
      publish::CompletionBatch completions;
      wss_->Service(Step(now));
    }
    if (progress_) {
      progress_ = false;
      host_->OnProgress();  // once per pass, not once per packet
    }
  }
  host_->Detach();
  wss_.reset();  // no longer watches the input loop's descriptor
  GiveBackInputLoop();
  if (pump_ != nullptr) {
    pump_->EndConnection();
    host_->OnProgress();
  }
}

absl::Duration Connection::Step(MonotonicTime now) {
  if (wake_) {
    wake_ = false;
    if (host_->LeaveRequested()) leave_requested_ = true;
  }
  if (!opened_ && now >= open_deadline_) {
    CloseWith(
        Error(absl::StatusCode::kUnavailable, reason::kConnectTimeout,
              absl::StrCat("the connection was not up within ",
                           absl::FormatDuration(params_.connect_budget))));
  }
  if (opened_ && !closing_) {
    std::string out;
    absl::Status tick = session_.OnTick(now.ToAbslTime(), &out);
    Flush(out);
    if (!tick.ok()) CloseWith(tick);
  }
  if (opened_ && !closing_ && !input_loop_tried_) BorrowInputLoop();
  if (input_loop_ != nullptr && now >= input_loop_->deadline()) {
    ServeInputLoop();
  }
  if (opened_ && !closing_ && !leaving_) PumpPublish(now);
  if (pump_ != nullptr) pump_->ExpireDeadlines(now);
  if (leave_requested_ && !leaving_ && !closing_) BeginLeave(now);
  if (leaving_ && !closing_ &&
      (goodbye_acked_ || now >= leave_deadline_ || !session_.connected())) {
    std::string out;
    if (session_.connected()) session_.Disconnect(&out);
    Flush(out);
    CloseWith(absl::OkStatus());
  }
  absl::Duration wait = params_.max_service_wait;
  if (leaving_ || closing_) wait = std::min(wait, kShutdownPoll);
  if (!opened_) wait = std::min(wait, open_deadline_ - now);
  if (opened_ && !closing_) {
    wait = std::min(wait, session_.NextTick() - now.ToAbslTime());
    if (pump_ != nullptr) wait = std::min(wait, pump_->next_refill() - now);
  }
  if (pump_ != nullptr) wait = std::min(wait, pump_->next_deadline() - now);
  if (input_loop_ != nullptr) {
    wait = std::min(wait, input_loop_->deadline() - now);
  }
  return std::max(absl::ZeroDuration(), wait);
}

void Connection::BorrowInputLoop() {
  input_loop_tried_ = true;
  LendableLoop* loop = pump_ != nullptr ? pump_->input_loop() : nullptr;
  if (loop == nullptr) return;
  const int fd = loop->Borrow();
  if (fd < 0) return;  // stopping
  absl::Status watching = wss_->Watch(fd, [this] { return ServeInputLoop(); });
  if (!watching.ok()) {
    loop->GiveBack();
    LogWarning(
        absl::StrCat("LINK: the publish socket stays on its own "
                     "thread: ",
                     watching.message()));
    return;
  }
  input_loop_ = loop;
}

bool Connection::ServeInputLoop() {
  if (input_loop_ == nullptr) return false;
  if (input_loop_->Serve()) return true;
  GiveBackInputLoop();  // stopping; the watch ends with the false
  return false;
}

void Connection::GiveBackInputLoop() {
  if (input_loop_ == nullptr) return;
  input_loop_->GiveBack();
  input_loop_ = nullptr;
}

void Connection::Wake() {
  if (wss_) wss_->Wake();
}

void Connection::OnOpen() {
  opened_ = true;
  std::string out;
  absl::Status begun = session_.Begin(Now().ToAbslTime(), &out);
  if (!begun.ok()) {
    CloseWith(begun);  // e.g. LOGIN_INVALID: the cloud's login is unusable
    return;
  }
  Flush(out);
}

void Connection::OnData(absl::string_view bytes) {
  std::string out;
  absl::Status status = session_.OnBytes(bytes, Now().ToAbslTime(), &out);
  Flush(out);
  HandleEvents();
  if (!status.ok()) CloseWith(status);
}

void Connection::OnClosed(const absl::Status& why) {
  closed_ = true;
  // Our own close (OK) keeps the reason it was closed for; an error from
  // the transport is the reason unless we were leaving on purpose.
  if (close_reason_.ok() && !closing_) close_reason_ = why;
  if (close_reason_.ok() && !why.ok() && !leaving_) close_reason_ = why;
}

void Connection::PumpPublish(MonotonicTime now) {
  if (pump_ == nullptr) return;
  std::string out;
  if (!pump_->Pump(session_, wss_->pending_bytes(), now, &out)) return;
  Flush(out);
  HandleEvents();  // e.g. a message too large for the server
  pump_->CompleteHandedOver();
  progress_ = true;
}

void Connection::Flush(const std::string& out) {
  if (!out.empty() && wss_ && opened_) {
    if (LogEnabled(LogLevel::kDebug)) {
      LogDebug(absl::StrCat("MQTT: sent ", mqtt::DescribePackets(out)));
    }
    wss_->Send(out);
  }
}

void Connection::CloseWith(const absl::Status& why) {
  if (closing_) return;
  closing_ = true;
  close_deadline_ = Now() + params_.close_wait;
  if (close_reason_.ok()) close_reason_ = why;
  wss_->Close();
}

void Connection::BeginLeave(MonotonicTime now) {
  leaving_ = true;
  leave_deadline_ = now + params_.goodbye_wait;
  if (!session_.connected()) return;
  std::string out;
  goodbye_id_ = session_.Publish(
      agent_topic_,
      AgentConnectionPayload(params_.claim_id, /*reachable=*/false,
                             params_.session_id, /*as_will=*/false,
                             clock_->WallNow()),
      1, now.ToAbslTime(), &out);
  Flush(out);
  LogInfo(absl::StrCat("LINK: leaving; announced reachable=false for ",
                       params_.claim_id));
}

std::string Connection::TopicOf(const std::string& name) const {
  return TopicIn(params_.credentials, name);
}

void Connection::PublishOwn(const std::string& topic_name,
                            std::string payload) {
  const std::string topic = TopicOf(topic_name);
  if (topic.empty()) {
    LogDebug(absl::StrCat("LINK: the login named no \"", topic_name,
                          "\" topic; not sent"));
    return;
  }
  std::string out;
  session_.Publish(topic, std::move(payload), 1, Now().ToAbslTime(), &out);
  Flush(out);
}

void Connection::OnConnected() {
  reached_online_ = true;
  PublishOwn(kAgentConnection,
             AgentConnectionPayload(params_.claim_id, /*reachable=*/true,
                                    params_.session_id, /*as_will=*/false,
                                    clock_->WallNow()));
  if (params_.node_id.empty()) {
    PublishOwn(kCreateNodeInstance,
               CreateNodeInstancePayload(params_.claim_id, params_.machine_guid,
                                         params_.hostname));
  } else {
    PublishOwn(
        kNodeInstanceConnection,
        NodeInstanceConnectionPayload(params_.claim_id, params_.node_id,
                                      params_.session_id, clock_->WallNow()));
  }
  LogInfo(absl::StrCat("LINK: online as ", params_.claim_id,
                       " (MQTT 5, Receive Maximum ",
                       session_.server_receive_maximum(), ")"));
  host_->OnOnline();
}

void Connection::HandleEvents() {
  for (mqtt::SessionEvent& event : session_.TakeEvents()) {
    switch (event.type) {
      case mqtt::SessionEvent::Type::kConnected:
        OnConnected();
        break;
      case mqtt::SessionEvent::Type::kAcked:
        if (++acks_ == params_.stable_acks) host_->OnStable();
        if (event.message_id == goodbye_id_) goodbye_acked_ = true;
        if (pump_ != nullptr) pump_->OnAcked(event.message_id, Now());
        break;
      case mqtt::SessionEvent::Type::kPublishFailed:
        LogWarning(absl::StrCat("LINK: message ", event.message_id,
                                " not delivered: ", event.reason));
        if (pump_ != nullptr) pump_->OnPublishFailed(event);
        break;
      case mqtt::SessionEvent::Type::kSubscribeFailed:
        LogError(absl::StrCat("LINK: ", event.reason));
        break;
      case mqtt::SessionEvent::Type::kMessage:
        HandleInbound(event);
        break;
    }
  }
  progress_ = true;
}

void Connection::HandleInbound(const mqtt::SessionEvent& event) {
  if (inbox_topic_.empty() || !absl::StartsWith(event.topic, inbox_topic_)) {
    LogDebug(absl::StrCat("LINK: message on unexpected topic ", event.topic));
    return;
  }
  // The message type is the topic's last segment.
  const std::string type = event.topic.substr(event.topic.rfind('/') + 1);
  if (type == "DisconnectReq") {
    HandleDisconnectReq(event.payload);
  } else if (type == "CreateNodeInstanceResult") {
    HandleNodeInstanceResult(event.payload);
  } else {
    LogDebug(absl::StrCat("LINK: ignoring cloud message ", type));
  }
}

void Connection::HandleDisconnectReq(const std::string& payload) {
  absl::StatusOr<CloudDisconnect> request = ParseDisconnectReq(payload);
  if (!request.ok()) {
    LogWarning(absl::StrCat("LINK: ignoring it: ", request.status().message()));
    return;
  }
  if (request->permaban) {
    banned_ = true;
    close_reason_ =
        Error(absl::StatusCode::kPermissionDenied, reason::kBanned,
              absl::StrCat("the cloud banned this node (", request->detail,
                           "); fix the cause, then ReloadClaimingState or "
                           "Reclaim"));
  } else {
    cloud_delay_ = absl::Seconds(
        std::min<uint64_t>(request->reconnect_after_seconds, 7 * 86400));
    close_reason_ =
        Error(absl::StatusCode::kUnavailable, reason::kCloudDisconnect,
              absl::StrCat("the cloud asked the node to reconnect after ",
                           request->reconnect_after_seconds, " s (",
                           request->detail, ")"));
  }
  LogWarning(absl::StrCat("LINK: ", close_reason_.message()));
  leave_requested_ = true;
}

void Connection::HandleNodeInstanceResult(const std::string& payload) {
  absl::StatusOr<std::string> node_id =
      ParseCreateNodeInstanceResult(payload, params_.machine_guid);
  if (!node_id.ok()) {
    LogWarning(absl::StrCat("LINK: ignoring it: ", node_id.status().message()));
    return;
  }
  LogInfo(absl::StrCat("LINK: the cloud knows this node as ", *node_id));
  // Sent before the host hears of the node id, so whoever sees the node id
  // knows the node instance is announced.
  PublishOwn(
      kNodeInstanceConnection,
      NodeInstanceConnectionPayload(params_.claim_id, *node_id,
                                    params_.session_id, clock_->WallNow()));
  host_->OnNodeId(*node_id);
}

}  // namespace cloudlink::link

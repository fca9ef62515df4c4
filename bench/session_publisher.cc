#include "bench/session_publisher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/status_macros.h"
#include "server/transport/lws_wss_connection.h"

namespace cloudlink::bench {
namespace {

constexpr absl::Duration kServiceWait = absl::Milliseconds(100);
constexpr absl::Duration kCloseWait = absl::Seconds(2);

// Monotonic, as absl::Time: the MQTT session keeps time that way.
absl::Time Now() { return RealClock()->MonotonicNow().ToAbslTime(); }

}  // namespace

SessionPublisher::SessionPublisher(std::string topic, RefillPolicy refill,
                                   mqtt::SessionConfig config)
    : topic_(std::move(topic)), refill_(refill), session_(std::move(config)) {}

absl::StatusOr<std::unique_ptr<SessionPublisher>> SessionPublisher::Connect(
    const std::string& url, const std::string& ca_file,
    const std::string& client_id, const std::string& topic, RefillPolicy refill,
    absl::Duration timeout) {
  mqtt::SessionConfig config;
  config.client_id = client_id;
  std::unique_ptr<SessionPublisher> publisher(
      new SessionPublisher(topic, refill, std::move(config)));
  transport::WssTarget target;
  target.url = url;
  target.proxy.kind = config::ProxyKind::kDirect;
  target.ca_file = ca_file;
  target.connect_budget = timeout;
  ASSIGN_OR_RETURN(publisher->wss_, transport::LwsWssConnector().Connect(
                                        target, publisher.get()));
  const absl::Time deadline = Now() + timeout;
  while (!publisher->session_.connected()) {
    if (!publisher->error_.ok()) return publisher->error_;
    if (publisher->closed_) {
      return Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "the connection closed before CONNACK");
    }
    if (Now() > deadline) {
      return Error(absl::StatusCode::kDeadlineExceeded, reason::kConnectTimeout,
                   "no CONNACK in time");
    }
    publisher->wss_->Service(kServiceWait);
  }
  return publisher;
}

SessionPublisher::~SessionPublisher() {
  if (wss_ == nullptr) return;
  if (opened_ && !closed_) {
    std::string out;
    if (session_.connected()) session_.Disconnect(&out);
    Flush(out);
    wss_->Close();
    const absl::Time deadline = Now() + kCloseWait;
    while (!closed_ && Now() < deadline) wss_->Service(kServiceWait);
  }
  wss_.reset();
}

uint16_t SessionPublisher::window() const {
  return session_.server_receive_maximum();
}

absl::Status SessionPublisher::PublishBatch(int count,
                                            absl::string_view payload, int qos,
                                            absl::Duration timeout) {
  const absl::Time deadline = Now() + timeout;
  const uint64_t target = acked_ + (qos > 0 ? count : 1);
  int sent = 0;
  bool marker_sent = false;
  while (true) {
    if (!error_.ok()) return error_;
    if (closed_) {
      return Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "the connection closed during the batch");
    }
    const absl::Time now = Now();
    std::string out;
    if (qos > 0) {
      // Up to the Receive Maximum in flight; the session would queue the
      // rest itself, but a producer feeds it as room opens (as the link
      // drains the publish queue).
      const size_t window = session_.server_receive_maximum();
      const bool refill =
          refill_ == RefillPolicy::kEveryAck ||
          window_refill_.Due(window, session_.in_flight() + session_.queued(),
                             sent < count, now);
      if (refill) window_refill_.Refilled(now);
      while (refill && sent < count && session_.queued() == 0 &&
             session_.in_flight() < window) {
        session_.Publish(topic_, std::string(payload), 1, now, &out);
        ++sent;
      }
    } else {
      const size_t backlog = wss_->pending_bytes();
      while (sent < count && backlog + out.size() < kQos0BacklogBytes) {
        session_.Publish(topic_, std::string(payload), 0, now, &out);
        ++sent;
      }
      if (sent == count && !marker_sent) {
        session_.Publish(topic_, "marker", 1, now, &out);
        marker_sent = true;
      }
    }
    Flush(out);
    TakeEvents();
    if (!error_.ok()) return error_;
    if (acked_ >= target) return absl::OkStatus();
    if (now > deadline) {
      return Error(
          absl::StatusCode::kDeadlineExceeded, reason::kBatchTimeout,
          absl::StrCat("batch of ", count, " not complete in ",
                       absl::FormatDuration(timeout), " (", sent, " written, ",
                       target - acked_, " acknowledgements missing)"));
    }
    RETURN_IF_ERROR(Tick());
    // Never past a deferred refill (WindowRefill's contract, as the link).
    wss_->Service(
        std::max(absl::ZeroDuration(),
                 std::min(kServiceWait, window_refill_.deadline() - Now())));
  }
}

void SessionPublisher::OnOpen() {
  opened_ = true;
  std::string out;
  absl::Status begun = session_.Begin(Now(), &out);
  Flush(out);
  if (!begun.ok() && error_.ok()) error_ = begun;
}

void SessionPublisher::OnData(absl::string_view bytes) {
  std::string out;
  absl::Status status = session_.OnBytes(bytes, Now(), &out);
  Flush(out);
  TakeEvents();
  if (!status.ok() && error_.ok()) error_ = status;
}

void SessionPublisher::OnClosed(const absl::Status& why) {
  closed_ = true;
  if (!why.ok() && error_.ok()) error_ = why;
}

void SessionPublisher::Flush(std::string& out) {
  if (!out.empty() && opened_ && !closed_) wss_->Send(out);
  out.clear();
}

void SessionPublisher::TakeEvents() {
  for (const mqtt::SessionEvent& event : session_.TakeEvents()) {
    switch (event.type) {
      case mqtt::SessionEvent::Type::kAcked:
        ++acked_;
        break;
      case mqtt::SessionEvent::Type::kPublishFailed:
      case mqtt::SessionEvent::Type::kSubscribeFailed:
        if (error_.ok()) {
          error_ = Error(absl::StatusCode::kInternal, reason::kPublishFailed,
                         event.reason);
        }
        break;
      case mqtt::SessionEvent::Type::kConnected:
      case mqtt::SessionEvent::Type::kMessage:
        break;
    }
  }
}

absl::Status SessionPublisher::Tick() {
  const absl::Time now = Now();
  if (now < session_.NextTick()) return absl::OkStatus();
  std::string out;
  absl::Status status = session_.OnTick(now, &out);
  Flush(out);
  return status;
}

}  // namespace cloudlink::bench

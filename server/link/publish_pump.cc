#include "server/link/publish_pump.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/mqtt/mqtt_packet.h"

namespace cloudlink::link {
namespace {

void Complete(publish::Message& message, const absl::Status& outcome) {
  if (!message.done) return;
  publish::Completion done = std::move(message.done);
  message.done = nullptr;
  done(outcome);
}

absl::Status PublishTimeout() {
  return Error(absl::StatusCode::kDeadlineExceeded, reason::kPublishTimeout,
               "the message was not acknowledged by the broker before its "
               "deadline");
}

}  // namespace

PublishPump::PublishPump(publish::Publisher* publisher, Limits limits)
    : publisher_(publisher), limits_(limits) {}

PublishPump::~PublishPump() {
  const absl::Status why =
      Error(absl::StatusCode::kUnavailable, reason::kShuttingDown,
            "cloudlinkd is stopping before the broker acknowledged the "
            "message");
  EndConnection();
  for (publish::Message& message : carried_) Complete(message, why);
}

void PublishPump::BeginConnection(
    const std::map<std::string, std::string>& topics) {
  topics_ = topics;
  refill_.Reset();
  more_waiting_ = false;
  std::vector<std::string> names;
  names.reserve(topics_.size());
  for (const auto& entry : topics_) names.push_back(entry.first);
  publisher_->SetTopicNames(names);
}

std::vector<publish::Message> PublishPump::TakeBatch(size_t room) {
  std::vector<publish::Message> batch;
  if (!carried_.empty()) {
    while (!carried_.empty() && batch.size() < room) {
      batch.push_back(std::move(carried_.front()));
      carried_.pop_front();
    }
    resent_ += batch.size();
    return batch;
  }
  publish::Spool* spool = publisher_->spool();
  if (spool_turn_ && spool != nullptr) {
    batch = spool->TakeReady(room, limits_.batch_bytes);
  }
  if (batch.empty()) {
    batch = publisher_->queue()->TakeBatch(room, limits_.batch_bytes);
  }
  if (batch.empty() && !spool_turn_ && spool != nullptr) {
    batch = spool->TakeReady(room, limits_.batch_bytes);
  }
  spool_turn_ = !spool_turn_;
  return batch;
}

bool PublishPump::Pump(mqtt::MqttSession& session, size_t transport_backlog,
                       MonotonicTime now, std::string* out) {
  if (!session.connected()) return false;
  const size_t window = std::max<size_t>(1, session.send_window());
  const bool work_waiting = more_waiting_ || !carried_.empty() ||
                            work_noted_.load(std::memory_order_acquire);
  // WindowRefill keeps monotonic time in absl::Time, as the session does.
  if (!refill_.Due(window, session.in_flight() + session.queued(), work_waiting,
                   now.ToAbslTime())) {
    return false;  // the owner wakes by next_refill()
  }
  refill_.Refilled(now.ToAbslTime());
  work_noted_.store(false, std::memory_order_release);
  const size_t out_before = out->size();
  bool sent = false;
  more_waiting_ = true;  // until a source comes back empty
  while (true) {
    const size_t busy = session.in_flight() + session.queued();
    if (busy >= window) break;
    if (transport_backlog + (out->size() - out_before) >=
        limits_.max_transport_backlog) {
      break;
    }
    std::vector<publish::Message> batch =
        TakeBatch(std::min(window - busy, limits_.batch));
    if (batch.empty()) {
      more_waiting_ = false;
      break;
    }
    for (publish::Message& message : batch) {
      Send(std::move(message), session, now, out);
    }
    sent = true;
  }
  return sent;
}

void PublishPump::Send(publish::Message message, mqtt::MqttSession& session,
                       MonotonicTime now, std::string* out) {
  if (message.deadline <= now) {
    ++timed_out_;
    Complete(message, PublishTimeout());
    return;
  }
  auto topic = topics_.find(message.topic);
  if (topic == topics_.end()) {
    Drop(message,
         Error(absl::StatusCode::kInvalidArgument, reason::kTopicUnknown,
               absl::StrCat("\"", publish::QuotedInput(message.topic),
                            "\" is not in the cloud's topic map")));
    return;
  }
  const uint8_t qos =
      message.level == publish::DeliveryLevel::kAtMostOnce ? 0 : 1;
  const uint64_t id = session.Publish(topic->second, message.payload, qos,
                                      now.ToAbslTime(), out);
  if (qos == 0) qos0_written_.push_back(id);
  if (message.deadline != MonotonicTime::InfiniteFuture()) {
    ++deadlines_in_flight_;
    next_deadline_ = std::min(next_deadline_, message.deadline);
  }
  in_flight_.emplace(id, std::move(message));
}

void PublishPump::CompleteHandedOver() {
  for (uint64_t id : qos0_written_) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) continue;  // failed meanwhile (too large)
    Complete(it->second, absl::OkStatus());
    in_flight_.erase(it);
  }
  qos0_written_.clear();
  if (in_flight_.empty()) ReleaseMemoryWhenIdle();
}

void PublishPump::Drop(publish::Message& message, const absl::Status& why) {
  ++failed_;
  if (message.spool_sequence != 0) {
    LogWarning(absl::StrCat("LINK: dropping spooled message ",
                            message.spool_sequence, ": ", why.message()));
    publisher_->spool()->Ack(message.spool_sequence);
  }
  Complete(message, why);
}

void PublishPump::OnAcked(uint64_t message_id, MonotonicTime now) {
  auto it = in_flight_.find(message_id);
  if (it == in_flight_.end()) return;
  publish::Message& message = it->second;
  latency_.Record(now - message.enqueued);
  if (message.spool_sequence != 0) {
    publisher_->spool()->Ack(message.spool_sequence);
  }
  Complete(message, absl::OkStatus());
  in_flight_.erase(it);
  if (in_flight_.empty()) ReleaseMemoryWhenIdle();
}

void PublishPump::ReleaseMemoryWhenIdle() {
  if (carried_.empty()) publisher_->queue()->ReleaseMemoryIfDue();
}

void PublishPump::OnPublishFailed(const mqtt::SessionEvent& event) {
  auto it = in_flight_.find(event.message_id);
  if (it == in_flight_.end()) return;
  const bool too_large =
      event.reason_code == mqtt::mqtt_reason::kPacketTooLarge;
  Drop(it->second, too_large ? Error(absl::StatusCode::kInvalidArgument,
                                     reason::kMessageTooLarge, event.reason)
                             : Error(absl::StatusCode::kFailedPrecondition,
                                     reason::kPublishRefused, event.reason));
  in_flight_.erase(it);
}

void PublishPump::ExpireDeadlines(MonotonicTime now) {
  if (deadlines_in_flight_ == 0) return;
  deadlines_in_flight_ = 0;
  next_deadline_ = MonotonicTime::InfiniteFuture();
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.deadline == MonotonicTime::InfiniteFuture()) {
      ++it;
    } else if (it->second.deadline <= now) {
      ++timed_out_;
      Complete(it->second, PublishTimeout());
      it = in_flight_.erase(it);
    } else {
      ++deadlines_in_flight_;
      next_deadline_ = std::min(next_deadline_, it->second.deadline);
      ++it;
    }
  }
}

void PublishPump::EndConnection() {
  // Unacknowledged messages go first on the next connection, in the order
  // they were sent (the map is ordered by session message id), ahead of
  // those carried from earlier connections and not sent since.
  std::deque<publish::Message> carried;
  for (auto& entry : in_flight_) carried.push_back(std::move(entry.second));
  in_flight_.clear();
  qos0_written_.clear();
  deadlines_in_flight_ = 0;
  next_deadline_ = MonotonicTime::InfiniteFuture();
  for (publish::Message& m : carried_) carried.push_back(std::move(m));
  carried_.swap(carried);
}

size_t PublishPump::FailAll(const absl::Status& why) {
  EndConnection();
  std::deque<publish::Message> held;
  held.swap(carried_);
  for (publish::Message& message : held) Complete(message, why);
  return held.size();
}

PumpStatus PublishPump::status() const {
  PumpStatus status;
  status.in_flight = in_flight_.size();
  status.held = carried_.size();
  status.timed_out = timed_out_;
  status.failed = failed_;
  status.resent = resent_;
  status.latency_p50 = latency_.Percentile(0.5);
  status.latency_p99 = latency_.Percentile(0.99);
  return status;
}

}  // namespace cloudlink::link

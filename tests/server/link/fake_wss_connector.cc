#include "tests/server/link/fake_wss_connector.h"

#include <poll.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/common/error.h"

namespace cloudlink::testing {

ScriptedConnection& ScriptedConnection::Open() {
  Step step;
  step.kind = Step::Kind::kOpen;
  steps_.push_back(std::move(step));
  return *this;
}

ScriptedConnection& ScriptedConnection::Read(std::string bytes) {
  Step step;
  step.kind = Step::Kind::kRead;
  step.bytes = std::move(bytes);
  steps_.push_back(std::move(step));
  return *this;
}

ScriptedConnection& ScriptedConnection::ReadInChunks(const std::string& bytes,
                                                     size_t chunk) {
  for (size_t i = 0; i < bytes.size(); i += chunk) Read(bytes.substr(i, chunk));
  return *this;
}

ScriptedConnection& ScriptedConnection::Expect(mqtt::MqttPacketType type,
                                               PacketCheck check) {
  Step step;
  step.kind = Step::Kind::kExpect;
  step.type = type;
  step.check = std::move(check);
  steps_.push_back(std::move(step));
  return *this;
}

ScriptedConnection& ScriptedConnection::Advance(absl::Duration d) {
  Step step;
  step.kind = Step::Kind::kAdvance;
  step.advance = d;
  steps_.push_back(std::move(step));
  return *this;
}

ScriptedConnection& ScriptedConnection::Close(absl::Status why) {
  Step step;
  step.kind = Step::Kind::kClose;
  step.why = std::move(why);
  steps_.push_back(std::move(step));
  return *this;
}

// Runs one ScriptedConnection against a listener.
class FakeWssConnection : public transport::WssConnection {
 public:
  FakeWssConnection(ScriptedConnection* script, FakeClock* clock,
                    transport::WssListener* listener)
      : script_(script),
        clock_(clock),
        listener_(listener),
        decoder_(mqtt::kMqttMaxPacketSize) {}

  absl::Status Watch(int fd, std::function<bool()> on_readable) override {
    watched_fd_ = fd;
    on_readable_ = std::move(on_readable);
    return absl::OkStatus();
  }

  void Service(absl::Duration max_wait) override {
    // The watched descriptor first, as a poll would report it.
    if (on_readable_) {
      pollfd p{watched_fd_, POLLIN, 0};
      if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0 && !on_readable_()) {
        on_readable_ = nullptr;
      }
    }
    if (wake_.exchange(false)) {
      {
        MutexLock lock(&idle_mu_);
        woken_ = false;
      }
      listener_->OnWake();
      return;
    }
    if (closed_) {
      Idle(max_wait);
      return;
    }
    std::deque<ScriptedConnection::Step>& steps = script_->steps_;
    while (!steps.empty() &&
           steps.front().kind == ScriptedConnection::Step::Kind::kExpect) {
      if (pending_.empty()) {
        Idle(max_wait);  // the link is idle until its next timer
        return;
      }
      Match(steps.front(), pending_.front());
      pending_.pop_front();
      steps.pop_front();
    }
    if (steps.empty()) {
      for (const mqtt::MqttPacket& packet : pending_) Unexpected(packet);
      pending_.clear();
      if (close_asked_) {
        Finish(absl::OkStatus());
      } else {
        Idle(max_wait);
      }
      return;
    }
    ScriptedConnection::Step step = std::move(steps.front());
    steps.pop_front();
    switch (step.kind) {
      case ScriptedConnection::Step::Kind::kOpen:
        open_ = true;
        listener_->OnOpen();
        break;
      case ScriptedConnection::Step::Kind::kRead:
        listener_->OnData(step.bytes);
        break;
      case ScriptedConnection::Step::Kind::kAdvance:
        clock_->Advance(step.advance);
        break;
      case ScriptedConnection::Step::Kind::kClose:
        Finish(step.why);
        break;
      case ScriptedConnection::Step::Kind::kExpect:
        break;  // handled above
    }
  }

  void Send(absl::string_view bytes) override {
    if (!open_ || closed_ || close_asked_) return;
    decoder_.Feed(bytes);
    while (true) {
      absl::StatusOr<absl::optional<mqtt::MqttPacket>> next = decoder_.Next();
      if (!next.ok()) {
        ADD_FAILURE() << "the link wrote bytes that do not parse: "
                      << next.status();
        return;
      }
      if (!next->has_value()) break;
      script_->written_.push_back(**next);
      pending_.push_back(**std::move(next));
    }
  }

  size_t pending_bytes() const override { return 0; }

  void Close() override {
    close_asked_ = true;
    script_->link_closed_ = true;
  }

  void Wake() override {
    wake_.store(true);
    MutexLock lock(&idle_mu_);
    woken_ = true;
  }

 private:
  // Nothing to deliver: with a fake clock, time jumps by `max_wait`; on
  // real time, wait that long or until Wake().
  void Idle(absl::Duration max_wait) {
    if (clock_ != nullptr) {
      clock_->Advance(max_wait);
      return;
    }
    MutexLock lock(&idle_mu_);
    idle_mu_.AwaitWithTimeout(&woken_, max_wait);
  }

  void Match(const ScriptedConnection::Step& step,
             const mqtt::MqttPacket& packet) {
    if (mqtt::TypeOf(packet) != step.type) {
      ADD_FAILURE() << "expected packet type " << static_cast<int>(step.type)
                    << ", the link wrote type "
                    << static_cast<int>(mqtt::TypeOf(packet));
    } else if (step.check && !step.check(packet)) {
      ADD_FAILURE() << "the link's packet of type "
                    << static_cast<int>(step.type)
                    << " does not pass the script's check";
    }
  }

  void Unexpected(const mqtt::MqttPacket& packet) {
    ADD_FAILURE() << "the link wrote a packet of type "
                  << static_cast<int>(mqtt::TypeOf(packet))
                  << " after the script ended";
  }

  void Finish(const absl::Status& why) {
    closed_ = true;
    listener_->OnClosed(why);
  }

  ScriptedConnection* const script_;
  FakeClock* const clock_;
  transport::WssListener* const listener_;
  mqtt::MqttDecoder decoder_;
  std::deque<mqtt::MqttPacket> pending_;
  std::atomic<bool> wake_{false};
  Mutex idle_mu_;
  bool woken_ ABSL_GUARDED_BY(idle_mu_) = false;
  bool open_ = false;
  bool close_asked_ = false;
  bool closed_ = false;
  int watched_fd_ = -1;
  std::function<bool()> on_readable_;
};

ScriptedConnection& FakeWssConnector::Script() {
  scripts_.push_back(std::make_unique<ScriptedConnection>());
  return *scripts_.back();
}

absl::StatusOr<std::unique_ptr<transport::WssConnection>>
FakeWssConnector::Connect(const transport::WssTarget& target,
                          transport::WssListener* listener) {
  ++connect_calls_;
  targets_.push_back(target);
  if (next_ >= scripts_.size()) {
    return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                 "connection refused (no script left in the test)");
  }
  ScriptedConnection* script = scripts_[next_++].get();
  ++script->connects_;
  return std::unique_ptr<transport::WssConnection>(
      new FakeWssConnection(script, clock_, listener));
}

std::string ConnackBytes(uint16_t receive_maximum, uint16_t server_keepalive) {
  mqtt::MqttConnack connack;
  connack.properties.receive_maximum = receive_maximum;
  connack.properties.topic_alias_maximum = 0;
  if (server_keepalive != 0) {
    connack.properties.server_keep_alive_seconds = server_keepalive;
  }
  std::string out;
  EXPECT_TRUE(mqtt::EncodeConnack(connack, &out).ok());
  return out;
}

std::string SubackBytes(uint16_t packet_id) {
  mqtt::MqttSuback suback;
  suback.packet_id = packet_id;
  suback.reason_codes = {mqtt::mqtt_reason::kGrantedQos1};
  std::string out;
  EXPECT_TRUE(mqtt::EncodeSuback(suback, &out).ok());
  return out;
}

std::string PubackBytes(uint16_t packet_id, uint8_t reason) {
  mqtt::MqttPuback puback;
  puback.packet_id = packet_id;
  puback.reason_code = reason;
  std::string out;
  EXPECT_TRUE(mqtt::EncodePuback(puback, &out).ok());
  return out;
}

std::string PublishBytes(const std::string& topic, const std::string& payload,
                         uint8_t qos, uint16_t packet_id) {
  mqtt::MqttPublish publish;
  publish.topic = topic;
  publish.payload = payload;
  publish.qos = qos;
  publish.packet_id = packet_id;
  std::string out;
  EXPECT_TRUE(mqtt::EncodePublish(publish, &out).ok());
  return out;
}

std::string PingrespBytes() {
  std::string out;
  mqtt::EncodePingresp(&out);
  return out;
}

}  // namespace cloudlink::testing

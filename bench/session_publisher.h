#pragma once

// Publisher A of the end-to-end benchmark: the link's own path. One thread
// (the caller's) drives an MqttSession over a WssConnection on
// libwebsockets, as CloudLink::Connection does: session output goes to
// WssConnection::Send (everything one loop pass produces in one Send, so
// many PUBLISHes share a WebSocket frame and a TLS write), received bytes go
// to MqttSession::OnBytes, PUBACKs come back as kAcked events.
//
// Not thread-safe: every call on the thread that called Connect.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/bench_publisher.h"
#include "server/link/window_refill.h"
#include "server/mqtt/mqtt_session.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::bench {

// When the producer tops the QoS 1 window up again.
enum class RefillPolicy {
  // After every PUBACK that opens a slot (what a producer feeding the link
  // as fast as it can sees): one small write per acknowledgement.
  kEveryAck,
  // The link's own policy, link::WindowRefill (what CloudLink's publish
  // pump uses): mostly once half the window is free, then all of it at
  // once, so a WebSocket frame and TLS record carry ~Receive Maximum / 2
  // messages.
  kHalfWindow,
};

class SessionPublisher final : public BenchPublisher,
                               private transport::WssListener {
 public:
  // Opens the WebSocket to `url` (verifying with `ca_file`, no proxy), sends
  // CONNECT (client id `client_id`) and returns once the CONNACK is in
  // (at most `timeout`). Errors: those of WssConnection and MqttSession, or
  // DEADLINE_EXCEEDED CONNECT_TIMEOUT.
  static absl::StatusOr<std::unique_ptr<SessionPublisher>> Connect(
      const std::string& url, const std::string& ca_file,
      const std::string& client_id, const std::string& topic,
      RefillPolicy refill, absl::Duration timeout);
  // Sends DISCONNECT and a WebSocket close, waiting at most 2 s.
  ~SessionPublisher() override;

  absl::Status PublishBatch(int count, absl::string_view payload, int qos,
                            absl::Duration timeout) override;
  uint16_t window() const override;

 private:
  SessionPublisher(std::string topic, RefillPolicy refill,
                   mqtt::SessionConfig config);

  // WssListener.
  void OnOpen() override;
  void OnData(absl::string_view bytes) override;
  void OnClosed(const absl::Status& why) override;
  void OnWake() override {}

  // Hands session output to the transport.
  void Flush(std::string& out);
  // Counts acknowledgements and failures from the session's events.
  void TakeEvents();
  // Keepalive, as the link does it.
  absl::Status Tick();

  const std::string topic_;
  const RefillPolicy refill_;
  link::WindowRefill window_refill_;  // for kHalfWindow
  mqtt::MqttSession session_;
  std::unique_ptr<transport::WssConnection> wss_;
  bool opened_ = false;
  bool closed_ = false;
  absl::Status error_;  // first failure of the connection or a message
  uint64_t acked_ = 0;
};

}  // namespace cloudlink::bench

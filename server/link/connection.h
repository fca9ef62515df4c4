#pragma once

// One connection of the cloud link, from connect to close, run on the link
// thread by CloudLink (cloud_link.h):
//
//   Connect (WssConnector)   → open within `connect_budget`
//   OnOpen                   → MQTT CONNECT (MqttSession)
//   CONNACK                  → online: UpdateAgentConnection reachable=true,
//                              then the node instance (CreateNodeInstance
//                              while the node has no node id, else
//                              UpdateNodeInstanceConnection)
//   online                   → keepalive, the publish pump (publish_pump.h),
//                              deadlines of messages in flight, the cloud's
//                              commands on the inbox (DisconnectReq,
//                              CreateNodeInstanceResult)
//   open                     → the producers' loop (the publish socket's,
//                              PublishPump::input_loop) is borrowed and
//                              served on this thread, in the transport's
//                              poll, until the connection is gone: a
//                              producer's message is read and sent on one
//                              wake-up (lendable_loop.h)
//   leave (asked, or the     → UpdateAgentConnection reachable=false, at most
//   cloud's DisconnectReq)     `goodbye_wait` for its PUBACK, DISCONNECT,
//                              WebSocket close; at most `close_wait` for the
//                              peer to close
//
// The connection learns that the link wants it to leave through its
// ConnectionHost, which it asks when it attaches (so a command posted while
// env or login ran is not missed) and whenever it is woken.
//
// Thread-safety: everything on the link thread, except Wake().

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/cloud/cloud_api.h"
#include "server/common/clock.h"
#include "server/common/lendable_loop.h"
#include "server/link/publish_pump.h"
#include "server/mqtt/mqtt_session.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::link {

class Connection;

// What a connection needs from the link that runs it. Called on the link
// thread, from inside Connection::Run().
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // From now until Detach(), other threads may call connection->Wake().
  // Returns true when the link already wants the connection to leave.
  virtual bool Attach(Connection* connection) = 0;
  virtual void Detach() = 0;
  // Whether the link wants the connection to leave (asked after a wake).
  virtual bool LeaveRequested() = 0;
  // The MQTT session is up.
  virtual void OnOnline() = 0;
  // The connection proved stable (kStableAcks PUBACKs): backoff may reset.
  virtual void OnStable() = 0;
  // The cloud gave this node its node id.
  virtual void OnNodeId(const std::string& node_id) = 0;
  // Publish counters may have changed.
  virtual void OnProgress() = 0;
};

struct ConnectionParams {
  std::string claim_id;
  std::string machine_guid;
  std::string hostname;
  std::string node_id;  // known from an earlier session; "" asks the cloud
  int64_t session_id = 0;
  cloud::LoginCredentials credentials;  // holds a secret (the password)
  transport::WssTarget target;
  absl::Duration connect_budget = absl::Seconds(120);
  absl::Duration goodbye_wait = absl::Seconds(2);
  absl::Duration close_wait = absl::Seconds(2);
  // The longest the loop sleeps in the transport. Only a safety net: every
  // timed duty (the keepalive, a deferred refill, an in-flight deadline,
  // the connect budget) bounds the wait itself and commands wake the
  // transport, so an idle link wakes for the keepalive only.
  absl::Duration max_service_wait = absl::Seconds(60);
  int stable_acks = 3;
};

class Connection final : public transport::WssListener {
 public:
  // `host`, `clock` and `pump` (may be null: no publish path) must outlive
  // the connection. `params.credentials.topics` must name
  // "agent-connection".
  Connection(ConnectionHost* host, Clock* clock, PublishPump* pump,
             ConnectionParams params);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects through `connector` and runs the connection until it closed
  // (or the peer failed to close within close_wait after ours).
  void Run(transport::WssConnector* connector);

  // Thread-safe between Attach() and Detach(): makes Run() look at the
  // host's LeaveRequested() soon.
  void Wake();

  // After Run().
  // Why the connection ended: OK when the link asked it to leave, the
  // cloud's BANNED / CLOUD_DISCONNECT, or the transport's / session's error.
  const absl::Status& close_reason() const { return close_reason_; }
  bool reached_online() const { return reached_online_; }
  bool banned() const { return banned_; }
  // The cloud's DisconnectReq delay (zero when none).
  absl::Duration cloud_delay() const { return cloud_delay_; }

  // The session's counters and queue depths (any time on the link thread).
  const mqtt::SessionCounters& counters() const { return session_.counters(); }
  size_t session_in_flight() const { return session_.in_flight(); }
  size_t session_queued() const { return session_.queued(); }

  // transport::WssListener (link thread, from inside Service()).
  void OnOpen() override;
  void OnData(absl::string_view bytes) override;
  void OnClosed(const absl::Status& why) override;
  void OnWake() override { wake_ = true; }

 private:
  MonotonicTime Now() { return clock_->MonotonicNow(); }
  // One pass of the loop's work; returns how long Service() may wait.
  absl::Duration Step(MonotonicTime now);
  void Flush(const std::string& out);
  void CloseWith(const absl::Status& why);
  void BeginLeave(MonotonicTime now);
  void PumpPublish(MonotonicTime now);
  // The producers' loop: borrowed once open, served when its descriptor is
  // readable and at its deadline, given back when the connection is gone
  // (or at once when the loop stops).
  void BorrowInputLoop();
  bool ServeInputLoop();
  void GiveBackInputLoop();
  void HandleEvents();
  void OnConnected();
  void PublishOwn(const std::string& topic_name, std::string payload);
  void HandleInbound(const mqtt::SessionEvent& event);
  void HandleDisconnectReq(const std::string& payload);
  void HandleNodeInstanceResult(const std::string& payload);
  std::string TopicOf(const std::string& name) const;

  ConnectionHost* const host_;
  Clock* const clock_;
  PublishPump* const pump_;
  const ConnectionParams params_;
  const std::string agent_topic_;
  const std::string inbox_topic_;  // "" when the login named none
  mqtt::MqttSession session_;
  std::unique_ptr<transport::WssConnection> wss_;

  bool opened_ = false;
  bool closed_ = false;
  bool closing_ = false;
  bool wake_ = false;
  bool progress_ = false;  // publish counters changed in this pass
  bool leave_requested_ = false;
  bool leaving_ = false;
  bool goodbye_acked_ = false;
  bool reached_online_ = false;
  bool banned_ = false;
  LendableLoop* input_loop_ = nullptr;  // borrowed
  bool input_loop_tried_ = false;
  uint64_t goodbye_id_ = 0;
  int acks_ = 0;
  MonotonicTime open_deadline_ = MonotonicTime::InfiniteFuture();
  MonotonicTime leave_deadline_ = MonotonicTime::InfiniteFuture();
  MonotonicTime close_deadline_ = MonotonicTime::InfiniteFuture();
  absl::Duration cloud_delay_ = absl::ZeroDuration();
  absl::Status close_reason_;
};

}  // namespace cloudlink::link

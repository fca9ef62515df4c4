#pragma once

// The dev cloud's own MQTT client (libmosquitto, MQTT 5, plain listener, as
// the broker's admin user). It subscribes to /agent/#, records every message
// per node in a MessageLog, decodes the known wire messages, and tracks each
// node's online/offline state from UpdateAgentConnection (including the
// will) in the NodeRegistry. It also publishes the cloud's commands.
//
// libmosquitto runs its own network thread and reconnects by itself, so a
// broker stop/start is survived.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/devcloud/message_log.h"
#include "tools/devcloud/node_registry.h"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace aclk::v1 {
class CreateNodeInstance;
class DisconnectReq;
}  // namespace aclk::v1

namespace cloudlink::devcloud {

class CloudSubscriber {
 public:
  // Connects to 127.0.0.1:`port` and waits (at most 10 s) for the
  // subscription. `nodes` and `log` must outlive the subscriber. Errors:
  // UNAVAILABLE (SUBSCRIBER_FAILED).
  static absl::StatusOr<std::unique_ptr<CloudSubscriber>> Start(
      int port, const std::string& username, const std::string& password,
      NodeRegistry* nodes, MessageLog* log);
  // Disconnects and stops the network thread.
  ~CloudSubscriber();

  // Publishes `request` (QoS 1) on the inbox-cmd topic of `claim_id`, bare
  // protobuf with the MQTT 5 user property "msg-type: DisconnectReq".
  // UNAVAILABLE (BROKER_UNAVAILABLE) while not connected.
  absl::Status PublishDisconnect(absl::string_view claim_id,
                                 const aclk::v1::DisconnectReq& request);

  bool connected() const;

  // Waits up to `timeout` until the subscription is in place (again, after a
  // broker restart). True when it is.
  bool WaitSubscribed(absl::Duration timeout);

 private:
  CloudSubscriber(NodeRegistry* nodes, MessageLog* log)
      : nodes_(nodes), log_(log) {}
  static void OnConnect(struct mosquitto* mosq, void* self, int rc, int flags,
                        const mqtt5__property* props);
  static void OnDisconnect(struct mosquitto* mosq, void* self, int rc,
                           const mqtt5__property* props);
  static void OnSubscribe(struct mosquitto* mosq, void* self, int mid,
                          int qos_count, const int* granted,
                          const mqtt5__property* props);
  static void OnMessage(struct mosquitto* mosq, void* self,
                        const ::mosquitto_message* message,
                        const mqtt5__property* props);
  void HandleMessage(const std::string& topic, const std::string& payload);
  // Answers a node's CreateNodeInstance with its node id (NodeInstanceId),
  // when the node is claimed here with that machine GUID.
  void AnswerCreateNodeInstance(const std::string& claim_id,
                                const aclk::v1::CreateNodeInstance& create);
  // Publishes `payload` (QoS 1) on "<inbox-cmd topic>/<type>", with the
  // MQTT 5 user property "msg-type: <type>".
  absl::Status PublishCommand(absl::string_view claim_id,
                              absl::string_view type,
                              const std::string& payload);

  NodeRegistry* nodes_;
  MessageLog* log_;
  struct mosquitto* mosq_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable subscribed_cv_;
  bool connected_ = false;   // guarded by mu_
  bool subscribed_ = false;  // guarded by mu_
  // The session id of each node's current online session, so a late will
  // of an older session does not mark a reconnected node offline.
  std::map<std::string, int64_t> online_session_;  // guarded by mu_
};

}  // namespace cloudlink::devcloud

#include "tools/devcloud/cloud_subscriber.h"

#include <google/protobuf/util/json_util.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "aclk/v1/agent_connection.pb.h"
#include "aclk/v1/disconnect.pb.h"
#include "aclk/v1/node_instance.pb.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/uuid.h"
#include "tools/devcloud/login_api.h"

namespace cloudlink::devcloud {
namespace {

constexpr char kSubscription[] = "/agent/#";
constexpr int kKeepaliveSeconds = 30;
constexpr absl::Duration kStartTimeout = absl::Seconds(10);

absl::Status SubscriberFailed(absl::string_view why) {
  return Error(absl::StatusCode::kUnavailable, reason::kSubscriberFailed, why);
}

// `message` as JSON with proto field names and default values shown.
nlohmann::json ToJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options)
           .ok()) {
    return nullptr;
  }
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// The topic of `name` from the password answer's topic list, for
// `claim_id`.
std::string NamedTopic(absl::string_view name, absl::string_view claim_id) {
  for (const nlohmann::json& t : TopicList()) {
    if (t["name"].get<std::string>() == name) {
      return TopicFor(t["topic"].get<std::string>(), claim_id);
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<CloudSubscriber>> CloudSubscriber::Start(
    int port, const std::string& username, const std::string& password,
    NodeRegistry* nodes, MessageLog* log) {
  mosquitto_lib_init();
  std::unique_ptr<CloudSubscriber> sub(new CloudSubscriber(nodes, log));
  std::string client_id = "devcloud-subscriber-" + NewUuidV4();
  sub->mosq_ =
      mosquitto_new(client_id.c_str(), /*clean_session=*/true, sub.get());
  if (sub->mosq_ == nullptr) return SubscriberFailed("mosquitto_new failed");
  mosquitto_int_option(sub->mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_username_pw_set(sub->mosq_, username.c_str(), password.c_str());
  mosquitto_reconnect_delay_set(sub->mosq_, 1, 2, false);
  mosquitto_connect_v5_callback_set(sub->mosq_, &CloudSubscriber::OnConnect);
  mosquitto_disconnect_v5_callback_set(sub->mosq_,
                                       &CloudSubscriber::OnDisconnect);
  mosquitto_subscribe_v5_callback_set(sub->mosq_,
                                      &CloudSubscriber::OnSubscribe);
  mosquitto_message_v5_callback_set(sub->mosq_, &CloudSubscriber::OnMessage);
  int rc = mosquitto_connect_bind_v5(sub->mosq_, "127.0.0.1", port,
                                     kKeepaliveSeconds, nullptr, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    return SubscriberFailed(
        absl::StrCat("cannot connect: ", mosquitto_strerror(rc)));
  }
  if (mosquitto_loop_start(sub->mosq_) != MOSQ_ERR_SUCCESS) {
    return SubscriberFailed("cannot start the network thread");
  }
  std::unique_lock<std::mutex> lock(sub->mu_);
  if (!sub->subscribed_cv_.wait_for(lock, absl::ToChronoSeconds(kStartTimeout),
                                    [&] { return sub->subscribed_; })) {
    return SubscriberFailed("no subscription within 10 s");
  }
  return sub;
}

CloudSubscriber::~CloudSubscriber() {
  if (mosq_ != nullptr) {
    mosquitto_disconnect(mosq_);
    mosquitto_loop_stop(mosq_, /*force=*/false);
    mosquitto_destroy(mosq_);
  }
  mosquitto_lib_cleanup();
}

bool CloudSubscriber::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_;
}

bool CloudSubscriber::WaitSubscribed(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return subscribed_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                                 [&] { return subscribed_; });
}

void CloudSubscriber::OnConnect(struct mosquitto* mosq, void* self, int rc, int,
                                const mqtt5__property*) {
  auto* sub = static_cast<CloudSubscriber*>(self);
  if (rc != 0) {
    LogWarning(absl::StrCat("subscriber: connect refused: ",
                            mosquitto_reason_string(rc)));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(sub->mu_);
    sub->connected_ = true;
  }
  // A clean session each time: subscribe again after every reconnect.
  mosquitto_subscribe_v5(mosq, nullptr, kSubscription, 1, 0, nullptr);
}

void CloudSubscriber::OnDisconnect(struct mosquitto*, void* self, int rc,
                                   const mqtt5__property*) {
  auto* sub = static_cast<CloudSubscriber*>(self);
  std::lock_guard<std::mutex> lock(sub->mu_);
  sub->connected_ = false;
  sub->subscribed_ = false;  // a clean session: the subscription is gone
  if (rc != 0) LogInfo("subscriber: connection to the broker lost");
}

void CloudSubscriber::OnSubscribe(struct mosquitto*, void* self, int, int,
                                  const int*, const mqtt5__property*) {
  auto* sub = static_cast<CloudSubscriber*>(self);
  std::lock_guard<std::mutex> lock(sub->mu_);
  sub->subscribed_ = true;
  sub->subscribed_cv_.notify_all();
}

void CloudSubscriber::OnMessage(struct mosquitto*, void* self,
                                const ::mosquitto_message* message,
                                const mqtt5__property*) {
  auto* sub = static_cast<CloudSubscriber*>(self);
  std::string payload(static_cast<const char*>(message->payload),
                      static_cast<size_t>(message->payloadlen));
  sub->HandleMessage(message->topic, payload);
}

void CloudSubscriber::HandleMessage(const std::string& topic,
                                    const std::string& payload) {
  // "/agent/<claim id>/...": the claim id is the third segment.
  std::vector<absl::string_view> parts = absl::StrSplit(topic, '/');
  if (parts.size() < 4 || !parts[0].empty() || parts[1] != "agent") return;
  std::string claim_id = LowercaseUuid(parts[2]);

  ReceivedMessage received;
  received.topic = topic;
  received.size = payload.size();
  received.received = absl::Now();
  if (topic == NamedTopic("agent-connection", claim_id)) {
    aclk::v1::UpdateAgentConnection update;
    if (update.ParseFromString(payload)) {
      received.type = "UpdateAgentConnection";
      received.fields = ToJson(update);
      bool apply = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (update.reachable()) {
          online_session_[claim_id] = update.session_id();
        } else {
          auto it = online_session_.find(claim_id);
          // A will of an older session arriving after the new one came up.
          apply = it == online_session_.end() ||
                  it->second == update.session_id() ||
                  update.session_id() == 0 || it->second == 0;
          if (apply) online_session_.erase(claim_id);
        }
      }
      if (apply) {
        nodes_->SetState(claim_id, update.reachable() ? NodeState::kOnline
                                                      : NodeState::kOffline);
        LogInfo(absl::StrCat(
            "node ", claim_id, update.reachable() ? " online" : " offline",
            update.update_source() == aclk::v1::CONNECTION_UPDATE_SOURCE_LWT
                ? " (will)"
                : ""));
      }
    }
  } else if (topic == NamedTopic("create-node-instance", claim_id)) {
    aclk::v1::CreateNodeInstance create;
    if (create.ParseFromString(payload)) {
      received.type = "CreateNodeInstance";
      received.fields = ToJson(create);
      AnswerCreateNodeInstance(claim_id, create);
    }
  } else if (topic == NamedTopic("node-instance-connection", claim_id)) {
    aclk::v1::UpdateNodeInstanceConnection update;
    if (update.ParseFromString(payload)) {
      received.type = "UpdateNodeInstanceConnection";
      received.fields = ToJson(update);
    }
  } else if (topic == NamedTopic("inbox-cmd", claim_id) + "/DisconnectReq") {
    aclk::v1::DisconnectReq request;
    if (request.ParseFromString(payload)) {
      received.type = "DisconnectReq";
      received.fields = ToJson(request);
    }
  }
  log_->Add(claim_id, std::move(received));
}

void CloudSubscriber::AnswerCreateNodeInstance(
    const std::string& claim_id, const aclk::v1::CreateNodeInstance& create) {
  absl::optional<Node> node = nodes_->Find(claim_id);
  if (!node || node->machine_guid != LowercaseUuid(create.machine_guid())) {
    LogWarning(absl::StrCat("CreateNodeInstance from ", claim_id,
                            " for machine ", create.machine_guid(),
                            ", which is not claimed here; not answered"));
    return;
  }
  aclk::v1::CreateNodeInstanceResult result;
  result.set_node_id(NodeInstanceId(node->space_id, node->machine_guid));
  result.set_machine_guid(node->machine_guid);
  absl::Status sent = PublishCommand(claim_id, "CreateNodeInstanceResult",
                                     result.SerializeAsString());
  if (!sent.ok()) {
    LogWarning(absl::StrCat("cannot answer CreateNodeInstance of ", claim_id,
                            ": ", sent.message()));
    return;
  }
  LogInfo(
      absl::StrCat("node ", claim_id, " is node instance ", result.node_id()));
}

absl::Status CloudSubscriber::PublishDisconnect(
    absl::string_view claim_id, const aclk::v1::DisconnectReq& request) {
  return PublishCommand(claim_id, "DisconnectReq", request.SerializeAsString());
}

absl::Status CloudSubscriber::PublishCommand(absl::string_view claim_id,
                                             absl::string_view type,
                                             const std::string& payload) {
  // As Netdata's cloud does, the message type is the topic's last segment.
  std::string topic =
      absl::StrCat(NamedTopic("inbox-cmd", LowercaseUuid(claim_id)), "/", type);
  mosquitto_property* props = nullptr;
  mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY,
                                     "msg-type", std::string(type).c_str());
  int rc = mosquitto_publish_v5(mosq_, nullptr, topic.c_str(),
                                static_cast<int>(payload.size()),
                                payload.data(), 1, false, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error(absl::StatusCode::kUnavailable, reason::kBrokerUnavailable,
                 absl::StrCat("cannot publish: ", mosquitto_strerror(rc)));
  }
  return absl::OkStatus();
}

}  // namespace cloudlink::devcloud

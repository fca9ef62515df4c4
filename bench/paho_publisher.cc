#include "bench/paho_publisher.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "MQTTProperties.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/error.h"

namespace cloudlink::bench {
namespace {

absl::Status PahoError(const Reason& reason, absl::string_view what, int code,
                       const char* message) {
  return Error(
      absl::StatusCode::kUnavailable, reason,
      absl::StrCat(what, " (Paho code ", code, message != nullptr ? ": " : "",
                   message != nullptr ? message : "", ")"));
}

}  // namespace

PahoPublisher::PahoPublisher(std::string topic, std::string ca_file)
    : topic_(std::move(topic)), ca_file_(std::move(ca_file)) {}

absl::StatusOr<std::unique_ptr<PahoPublisher>> PahoPublisher::Connect(
    const std::string& url, const std::string& ca_file,
    const std::string& client_id, const std::string& topic,
    absl::Duration timeout, const std::string& username,
    const std::string& password) {
  std::unique_ptr<PahoPublisher> publisher(new PahoPublisher(topic, ca_file));
  MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer5;
  // Paho counts queued publish commands against this even when connected;
  // the benchmark bounds what it queues itself.
  create.maxBufferedMessages = 1 << 20;
  int rc = MQTTAsync_createWithOptions(
      &publisher->client_, url.c_str(), client_id.c_str(),
      MQTTCLIENT_PERSISTENCE_NONE, nullptr, &create);
  if (rc != MQTTASYNC_SUCCESS) {
    publisher->client_ = nullptr;
    return PahoError(reason::kPahoConnectFailed, "MQTTAsync_createWithOptions",
                     rc, MQTTAsync_strerror(rc));
  }
  MQTTAsync_setCallbacks(publisher->client_, publisher.get(),
                         &PahoPublisher::OnConnectionLost, nullptr, nullptr);

  MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
  ssl.trustStore = publisher->ca_file_.c_str();
  ssl.enableServerCertAuth = 1;
  ssl.verify = 1;
  MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer5_ws;
  options.keepAliveInterval = 60;
  options.cleanstart = 1;
  options.maxInflight = 65535;  // Paho lowers it to the Receive Maximum
  options.connectTimeout =
      static_cast<int>(std::max<int64_t>(1, absl::ToInt64Seconds(timeout)));
  options.ssl = &ssl;
  if (!username.empty()) options.username = username.c_str();
  if (!password.empty()) options.password = password.c_str();
  options.onSuccess5 = &PahoPublisher::OnConnected;
  options.onFailure5 = &PahoPublisher::OnConnectFailed;
  options.context = publisher.get();
  rc = MQTTAsync_connect(publisher->client_, &options);
  if (rc != MQTTASYNC_SUCCESS) {
    return PahoError(reason::kPahoConnectFailed, "MQTTAsync_connect", rc,
                     MQTTAsync_strerror(rc));
  }
  const MonotonicTime deadline = RealClock()->MonotonicNow() + timeout;
  MutexLock lock(&publisher->mu_);
  PahoPublisher* p = publisher.get();
  if (!p->mu_.AwaitWithDeadline(
          [p]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->connected_ || !p->error_.ok();
          },
          deadline)) {
    return Error(absl::StatusCode::kDeadlineExceeded, reason::kConnectTimeout,
                 "Paho got no CONNACK in time");
  }
  if (!publisher->error_.ok()) return publisher->error_;
  publisher->window_ = publisher->receive_maximum_;
  return publisher;
}

PahoPublisher::~PahoPublisher() {
  if (client_ == nullptr) return;
  bool connected = false;
  {
    MutexLock lock(&mu_);
    connected = connected_ && error_.ok();
  }
  if (connected) {
    MQTTAsync_disconnectOptions options =
        MQTTAsync_disconnectOptions_initializer5;
    options.timeout = 2000;
    options.onSuccess5 = &PahoPublisher::OnDisconnected;
    options.context = this;
    if (MQTTAsync_disconnect(client_, &options) == MQTTASYNC_SUCCESS) {
      const MonotonicTime deadline =
          RealClock()->MonotonicNow() + absl::Seconds(3);
      MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(&disconnected_, deadline);
    }
  }
  MQTTAsync_destroy(&client_);
}

absl::Status PahoPublisher::Send(absl::string_view payload, int qos, int limit,
                                 MonotonicTime deadline) {
  {
    MutexLock lock(&mu_);
    if (!mu_.AwaitWithDeadline(
            [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
              return outstanding_ < limit || !error_.ok();
            },
            deadline)) {
      return Error(absl::StatusCode::kDeadlineExceeded, reason::kBatchTimeout,
                   "the batch was not complete in time");
    }
    if (!error_.ok()) return error_;
    ++outstanding_;
  }
  MQTTAsync_message message = MQTTAsync_message_initializer;
  message.payload = const_cast<char*>(payload.data());
  message.payloadlen = static_cast<int>(payload.size());
  message.qos = qos;
  message.retained = 0;
  MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
  response.onSuccess5 = &PahoPublisher::OnSent;
  response.onFailure5 = &PahoPublisher::OnSendFailed;
  response.context = this;
  while (true) {
    const int rc =
        MQTTAsync_sendMessage(client_, topic_.c_str(), &message, &response);
    if (rc == MQTTASYNC_SUCCESS) return absl::OkStatus();
    if (rc != MQTTASYNC_MAX_BUFFERED_MESSAGES ||
        RealClock()->MonotonicNow() > deadline) {
      MutexLock lock(&mu_);
      --outstanding_;
      return PahoError(reason::kPublishFailed, "MQTTAsync_sendMessage", rc,
                       MQTTAsync_strerror(rc));
    }
    absl::SleepFor(absl::Microseconds(100));
  }
}

absl::Status PahoPublisher::PublishBatch(int count, absl::string_view payload,
                                         int qos, absl::Duration timeout) {
  const MonotonicTime deadline = RealClock()->MonotonicNow() + timeout;
  absl::Status sent = SendMessages(count, payload, qos, timeout);
  if (!sent.ok()) return sent;
  return AwaitCompletion(qos, deadline - RealClock()->MonotonicNow());
}

absl::Status PahoPublisher::SendMessages(int count, absl::string_view payload,
                                         int qos, absl::Duration timeout) {
  const MonotonicTime deadline = RealClock()->MonotonicNow() + timeout;
  for (int i = 0; i < count; ++i) {
    absl::Status sent =
        Send(payload, qos, Limit(qos, payload.size()), deadline);
    if (!sent.ok()) return sent;
  }
  return absl::OkStatus();
}

absl::Status PahoPublisher::AwaitCompletion(int qos, absl::Duration timeout) {
  const MonotonicTime deadline = RealClock()->MonotonicNow() + timeout;
  if (qos == 0) {
    // Right behind the messages, whatever the window.
    absl::Status sent =
        Send("marker", 1, std::numeric_limits<int>::max(), deadline);
    if (!sent.ok()) return sent;
  }
  MutexLock lock(&mu_);
  if (!mu_.AwaitWithDeadline(
          [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return outstanding_ == 0 || !error_.ok();
          },
          deadline)) {
    return Error(
        absl::StatusCode::kDeadlineExceeded, reason::kBatchTimeout,
        absl::StrCat("messages not complete in ", absl::FormatDuration(timeout),
                     " (", outstanding_, " outstanding)"));
  }
  return error_;
}

int PahoPublisher::Limit(int qos, size_t payload_size) const {
  // QoS 1: the Receive Maximum; QoS 0: about kQos0BacklogBytes of payload
  // not yet written, the same backlog the session path allows itself.
  return qos > 0
             ? static_cast<int>(window_)
             : static_cast<int>(std::max<size_t>(
                   1, kQos0BacklogBytes / std::max<size_t>(1, payload_size)));
}

void PahoPublisher::OnConnected(void* context,
                                MQTTAsync_successData5* response) {
  auto* self = static_cast<PahoPublisher*>(context);
  MutexLock lock(&self->mu_);
  if (response != nullptr &&
      MQTTProperties_hasProperty(&response->properties,
                                 MQTTPROPERTY_CODE_RECEIVE_MAXIMUM)) {
    self->receive_maximum_ =
        static_cast<uint16_t>(MQTTProperties_getNumericValue(
            &response->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM));
  }
  self->connected_ = true;
}

void PahoPublisher::OnConnectFailed(void* context,
                                    MQTTAsync_failureData5* response) {
  auto* self = static_cast<PahoPublisher*>(context);
  MutexLock lock(&self->mu_);
  if (self->error_.ok()) {
    self->error_ =
        PahoError(reason::kPahoConnectFailed, "Paho could not connect",
                  response != nullptr ? response->code : 0,
                  response != nullptr ? response->message : nullptr);
  }
}

void PahoPublisher::OnSent(void* context, MQTTAsync_successData5* response) {
  auto* self = static_cast<PahoPublisher*>(context);
  MutexLock lock(&self->mu_);
  --self->outstanding_;
}

void PahoPublisher::OnSendFailed(void* context,
                                 MQTTAsync_failureData5* response) {
  auto* self = static_cast<PahoPublisher*>(context);
  MutexLock lock(&self->mu_);
  --self->outstanding_;
  if (self->error_.ok()) {
    self->error_ =
        PahoError(reason::kPublishFailed, "a message was not delivered",
                  response != nullptr ? response->code : 0,
                  response != nullptr ? response->message : nullptr);
  }
}

void PahoPublisher::OnDisconnected(void* context,
                                   MQTTAsync_successData5* response) {
  auto* self = static_cast<PahoPublisher*>(context);
  MutexLock lock(&self->mu_);
  self->disconnected_ = true;
}

void PahoPublisher::OnConnectionLost(void* context, char* cause) {
  auto* self = static_cast<PahoPublisher*>(context);
  MutexLock lock(&self->mu_);
  if (self->error_.ok()) {
    self->error_ =
        Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
              absl::StrCat("Paho lost the connection: ",
                           cause != nullptr ? cause : "no cause"));
  }
}

}  // namespace cloudlink::bench

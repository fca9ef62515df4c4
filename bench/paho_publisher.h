#pragma once

// Publisher B of the end-to-end benchmark: the peer client, Eclipse Paho C's
// asynchronous library (libpaho-mqtt3as) over wss:// with MQTT 5, TLS
// verified with the same CA. Paho runs its own send and receive threads; the
// caller's thread calls MQTTAsync_sendMessage while the window has room and
// waits on a condition variable otherwise. A message counts as done at its
// onSuccess5 callback (QoS 1: the PUBACK; QoS 0: written to the socket).
//
// PublishBatch (or SendMessages and AwaitCompletion) is called from one
// thread at a time; the callbacks run on Paho's threads.

#include <memory>
#include <string>

#include "MQTTAsync.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "bench/bench_publisher.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"

namespace cloudlink::bench {

class PahoPublisher final : public BenchPublisher {
 public:
  // Creates the client for `url` (wss://host:port/path), connects with clean
  // start and returns once the CONNACK is in (at most `timeout`); the window
  // is the CONNACK's Receive Maximum (65535 when absent). `username` and
  // `password` ("" for none) log in to a broker that wants them. Errors:
  // UNAVAILABLE PAHO_CONNECT_FAILED with Paho's code and message.
  static absl::StatusOr<std::unique_ptr<PahoPublisher>> Connect(
      const std::string& url, const std::string& ca_file,
      const std::string& client_id, const std::string& topic,
      absl::Duration timeout, const std::string& username = "",
      const std::string& password = "");
  // Disconnects (at most 2 s) and destroys the client.
  ~PahoPublisher() override;

  // SendMessages, then AwaitCompletion.
  absl::Status PublishBatch(int count, absl::string_view payload, int qos,
                            absl::Duration timeout) override;
  uint16_t window() const override { return window_; }

  // Sends `count` messages, waiting only for room (QoS 1: the window; QoS 0:
  // the backlog), not for their completion: a producer at a steady rate.
  absl::Status SendMessages(int count, absl::string_view payload, int qos,
                            absl::Duration timeout);
  // Waits until every message sent so far is complete; after QoS 0 messages
  // sends a QoS 1 marker first, whose PUBACK says the broker has them.
  absl::Status AwaitCompletion(int qos, absl::Duration timeout);

 private:
  PahoPublisher(std::string topic, std::string ca_file);

  static void OnConnected(void* context, MQTTAsync_successData5* response);
  static void OnConnectFailed(void* context, MQTTAsync_failureData5* response);
  static void OnSent(void* context, MQTTAsync_successData5* response);
  static void OnSendFailed(void* context, MQTTAsync_failureData5* response);
  static void OnDisconnected(void* context, MQTTAsync_successData5* response);
  static void OnConnectionLost(void* context, char* cause);

  // How many messages may be outstanding (see SendMessages).
  int Limit(int qos, size_t payload_size) const;
  // Waits until fewer than `limit` messages are outstanding, then sends one
  // (retrying while Paho's buffer is full) and counts it as outstanding.
  absl::Status Send(absl::string_view payload, int qos, int limit,
                    MonotonicTime deadline);

  const std::string topic_;
  const std::string ca_file_;
  MQTTAsync client_ = nullptr;
  uint16_t window_ = 65535;

  Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  bool disconnected_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  uint16_t receive_maximum_ ABSL_GUARDED_BY(mu_) = 65535;
  // Messages sent and not yet completed.
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cloudlink::bench

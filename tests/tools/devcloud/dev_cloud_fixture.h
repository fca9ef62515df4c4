#pragma once

// Test helpers for the dev cloud: the real binary as a subprocess, HTTPS
// clients that verify against its CA, RSA keys like a node's, and a small
// libmosquitto MQTT 5 client with bounded waits.

#include <openssl/evp.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "httplib.h"
#include "tests/testing/subprocess.h"

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace cloudlink::devcloud_testing {

// An RSA 2048 key pair (what a node makes); owned EVP_PKEY.
struct NodeKey {
  NodeKey();
  ~NodeKey();
  NodeKey(const NodeKey&) = delete;
  NodeKey& operator=(const NodeKey&) = delete;
  std::string PublicPem() const;  // SubjectPublicKeyInfo PEM
  // RSA-OAEP (SHA-1, MGF1-SHA-1) decryption; "" on failure.
  std::string Decrypt(const std::string& ciphertext) const;
  EVP_PKEY* key;
};

// A fresh RSA 2048 public key as SubjectPublicKeyInfo PEM.
std::string NewRsaPublicKeyPem();

// An EC P-256 public key PEM (a key the cloud must refuse).
std::string NewEcPublicKeyPem();

// One running dev cloud process (SIGKILLed with its group on destruction)
// and its devcloud.env. Construction waits at most 30 s for readiness.
class RunningDevCloud {
 public:
  explicit RunningDevCloud(const std::string& dir);

  // SIGTERM and a bounded wait; the wait status, or -1.
  int Stop();

  std::string env(const std::string& key) const;
  int port() const;
  std::unique_ptr<httplib::SSLClient> Client() const;
  httplib::Headers AdminBearer() const;
  cloudlink::testing::Subprocess* process() { return process_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<cloudlink::testing::Subprocess> process_;
  std::map<std::string, std::string> env_;
};

// A libmosquitto MQTT 5 client for tests. All waits are bounded.
class MqttTestClient {
 public:
  struct Message {
    std::string topic;
    std::string payload;
    std::map<std::string, std::string> user_properties;
  };

  MqttTestClient(const std::string& username, const std::string& password);
  ~MqttTestClient();

  // Sets a will (QoS 1) for the next Connect.
  void SetWill(const std::string& topic, const std::string& payload);
  // Connects to 127.0.0.1:port; returns the CONNACK reason code, or -1 when
  // no CONNACK came within `timeout`.
  int Connect(int port, absl::Duration timeout = absl::Seconds(10));
  // Publishes at QoS 1 and returns the PUBACK reason code (0 success,
  // 0x87 not authorized), or -1 without PUBACK within `timeout` (e.g. the
  // broker dropped the connection).
  int Publish(const std::string& topic, const std::string& payload,
              absl::Duration timeout = absl::Seconds(10));
  // Subscribes at QoS 1; the granted QoS or reason code, -1 on timeout.
  int Subscribe(const std::string& topic,
                absl::Duration timeout = absl::Seconds(10));
  // The next received message, or nullopt after `timeout`.
  absl::optional<Message> NextMessage(absl::Duration timeout);
  // Disconnects; with_will asks the broker to publish the will (reason 4).
  void Disconnect(bool with_will = false);

 private:
  static void OnConnect(struct mosquitto*, void* self, int rc, int,
                        const ::mqtt5__property*);
  static void OnPublish(struct mosquitto*, void* self, int mid, int rc,
                        const ::mqtt5__property*);
  static void OnSubscribe(struct mosquitto*, void* self, int mid, int count,
                          const int* granted, const ::mqtt5__property*);
  static void OnMessage(struct mosquitto*, void* self,
                        const ::mosquitto_message* message,
                        const ::mqtt5__property* props);
  static void OnDisconnect(struct mosquitto*, void* self, int rc,
                           const ::mqtt5__property*);

  struct mosquitto* mosq_;
  bool loop_started_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  int connack_ = -2;  // -2: none yet
  bool disconnected_ = false;
  std::map<int, int> puback_;  // mid → reason code
  std::map<int, int> suback_;  // mid → granted
  std::deque<Message> messages_;
};

}  // namespace cloudlink::devcloud_testing

#pragma once

// The broker the end-to-end benchmarks publish to: a real mosquitto on
// loopback with a WebSocket + TLS listener (wss://localhost:PORT/mqtt) and a
// plain MQTT listener, anonymous access, no persistence, errors and warnings
// logged to DIR/mosquitto.log. Certificates come from the dev cloud's PKI
// (DIR/ca.pem, DIR/server.pem with SAN localhost and 127.0.0.1).
//
// The TLS 1.3 suite is pinned to TLS_AES_128_GCM_SHA256 (by default OpenSSL
// would pick AES-256-GCM) so that bulk throughput can be stated against
// `openssl speed -evp aes-128-gcm`. mosquitto's Receive Maximum is left at
// its default (max_inflight_messages 20).
//
// Not thread-safe; one owner.

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cloudlink::bench {

struct BenchBrokerOptions {
  std::string dir;  // exists, writable; short (it holds no sockets)
  std::string mosquitto_path = "/usr/sbin/mosquitto";
  std::string tls13_ciphersuites = "TLS_AES_128_GCM_SHA256";
};

class BenchBroker {
 public:
  // Makes the certificates, picks two free loopback ports, writes the config
  // and starts mosquitto; returns once both listeners accept TCP connections
  // (at most 10 s). Errors: UNAVAILABLE BROKER_START_FAILED (with the tail
  // of the broker's log), INTERNAL for certificate or file trouble.
  static absl::StatusOr<std::unique_ptr<BenchBroker>> Start(
      BenchBrokerOptions options);
  // Stops mosquitto: SIGTERM, then SIGKILL after 5 s; reaps it.
  ~BenchBroker();
  BenchBroker(const BenchBroker&) = delete;
  BenchBroker& operator=(const BenchBroker&) = delete;

  // wss://localhost:PORT/mqtt
  std::string wss_url() const;
  int wss_port() const { return wss_port_; }
  int plain_port() const { return plain_port_; }
  const std::string& ca_file() const { return ca_file_; }
  pid_t pid() const { return pid_; }

 private:
  BenchBroker() = default;

  int wss_port_ = 0;
  int plain_port_ = 0;
  std::string ca_file_;
  pid_t pid_ = -1;
};

}  // namespace cloudlink::bench

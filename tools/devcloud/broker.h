#pragma once

// The dev cloud's MQTT broker: a real mosquitto that the dev cloud starts,
// configures and owns.
//
// Listeners, both on 127.0.0.1 with ports picked free at Start():
//   websocket_port  WebSocket + TLS (the dev cloud's server certificate); the
//                   node's transport, wss://localhost:PORT/mqtt
//   plain_port      plain MQTT, for the dev cloud's subscriber and tests
// Authentication by password file (no anonymous access); the ACL confines
// each node user (= its claim id) to /agent/<claim id>/..., and one admin
// user may use every topic. Files: DIR/mosquitto.conf, DIR/mosquitto.passwd,
// DIR/mosquitto.acl; the broker's log goes to DIR/mosquitto.log.

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/state/file_system.h"

namespace cloudlink::devcloud {

struct BrokerOptions {
  std::string dir;
  std::string cert_file;  // PEM server certificate for the TLS listener
  std::string key_file;
  std::string mosquitto_path = "/usr/sbin/mosquitto";
  int max_keepalive_seconds = 0;  // 0: mosquitto's default
  // The files in `dir` are written and read through it; must outlive the
  // broker.
  state::FileSystem* fs = state::DefaultFileSystem();
};

// mosquitto's password-file hash of `password`: "$7$101$salt$hash"
// (PBKDF2-HMAC-SHA512, 101 iterations, 12-byte random salt, base64).
std::string MosquittoPasswordHash(absl::string_view password);

class Broker {
 public:
  // Picks the ports, writes the files and starts mosquitto, returning once
  // both listeners accept connections (at most 10 s). Errors: UNAVAILABLE
  // (BROKER_START_FAILED, with the tail of its log), or the error of
  // FileSystem::WriteFileAtomic.
  static absl::StatusOr<std::unique_ptr<Broker>> Start(BrokerOptions options);
  // Stops mosquitto (SIGTERM, then SIGKILL after 5 s).
  ~Broker();

  int websocket_port() const { return websocket_port_; }
  int plain_port() const { return plain_port_; }
  const std::string& admin_username() const { return admin_username_; }
  const std::string& admin_password() const { return admin_password_; }

  // Sets (adds or replaces) the password of `username`, persists the
  // password file and, when mosquitto runs, reloads it (SIGHUP) and returns
  // only once a probe login with the new password succeeds (at most 5 s;
  // else UNAVAILABLE BROKER_RELOAD_FAILED). When stopped, the password is
  // used from the next Resume(). Thread-safe.
  absl::Status SetNodePassword(absl::string_view username,
                               absl::string_view password);

  // Stops mosquitto (bounded); connected clients see the connection drop.
  // Idempotent. Thread-safe.
  absl::Status Pause();
  // Starts mosquitto again on the same ports with the current passwords.
  // Idempotent. Thread-safe.
  absl::Status Resume();
  bool running();

 private:
  explicit Broker(BrokerOptions options) : options_(std::move(options)) {}
  absl::Status WriteConfigLocked();
  absl::Status WritePasswordsLocked();
  absl::Status LaunchLocked();
  void StopLocked();
  bool RunningLocked();

  const BrokerOptions options_;
  int websocket_port_ = 0;
  int plain_port_ = 0;
  std::string admin_username_ = "devcloud-admin";
  std::string admin_password_;
  std::mutex mu_;
  pid_t pid_ = -1;                             // guarded by mu_
  std::map<std::string, std::string> hashes_;  // guarded by mu_
};

// True when an MQTT 3.1.1 login to 127.0.0.1:`port` with these credentials
// gets CONNACK 0 within `timeout`.
bool ProbeMqttLogin(int port, absl::string_view username,
                    absl::string_view password, absl::Duration timeout);

}  // namespace cloudlink::devcloud

#pragma once

// An in-process relay that puts a SOCKS5 proxy under libwebsockets, which in
// 4.1 has SOCKS5 compiled out and cannot adopt a connected client socket:
//
//   lws ──Unix socket──► relay ──TCP──► SOCKS5 proxy ──► target host:port
//
// Start() makes a private directory (mkdtemp under /tmp, mode 0700, so only
// this user can connect) holding a listening Unix socket, and starts the
// relay's thread. The thread connects to the proxy (connect_timeout), does
// the SOCKS5 handshake for the target (handshake_timeout; socks5h lets the
// proxy resolve the name, socks5 resolves it here first), accepts the one
// client connection (bytes the client sent early wait in the kernel), and
// then copies bytes both ways until either side closes or the relay is
// destroyed. TLS and the WebSocket upgrade pass through untouched.
//
// When the handshake fails the relay records why (handshake_status()) and
// closes the client side, so the transport can report PROXY_FAILED /
// PROXY_AUTH with the proxy's meaning instead of a generic TLS error.
//
// Thread-safety: Start(), the destructor and the accessors may be called from
// any one thread; handshake_status() may be read while the relay runs.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/config/proxy.h"

namespace cloudlink::socks5 {

struct Socks5RelayOptions {
  config::ProxyConfig proxy;  // kind kSocks5 or kSocks5h
  std::string target_host;    // the endpoint's host (no brackets)
  int target_port = 0;
  absl::Duration connect_timeout = absl::Seconds(10);    // TCP to the proxy
  absl::Duration handshake_timeout = absl::Seconds(10);  // SOCKS5 exchange
  absl::Duration accept_timeout = absl::Seconds(10);     // client must come
  // Measures the timeouts (monotonic time, so a wall-clock step neither
  // stretches nor cuts them). Must outlive the relay.
  Clock* clock = RealClock();
};

class Socks5Relay {
 public:
  // Creates the listening socket and starts the thread. Errors:
  // INVALID_ARGUMENT PROXY_INVALID for a proxy that is not SOCKS5 or a bad
  // target; INTERNAL RELAY_FAILED when the socket cannot be set up.
  static absl::StatusOr<std::unique_ptr<Socks5Relay>> Start(
      Socks5RelayOptions options);

  // Stops the thread (within a poll cycle), closes every socket, removes the
  // socket file and its directory.
  ~Socks5Relay();
  Socks5Relay(const Socks5Relay&) = delete;
  Socks5Relay& operator=(const Socks5Relay&) = delete;

  // The Unix socket the client connects to ("/tmp/cl.XXXXXX/relay").
  const std::string& socket_path() const { return socket_path_; }

  // absl::nullopt while the handshake runs; then OK (tunnel up) or why it
  // failed, always UNAVAILABLE: PROXY_FAILED (bad or negative replies, and
  // timeouts, "... timed out"), PROXY_AUTH (credentials missing or refused),
  // or CONNECT_FAILED (the proxy or, for socks5, the target name could not be
  // resolved or reached; the message names which).
  absl::optional<absl::Status> handshake_status() const;

 private:
  explicit Socks5Relay(Socks5RelayOptions options);
  void Run();
  absl::StatusOr<int> ConnectToProxy(MonotonicTime deadline);
  // Waits until `fd` has `events` (or an error/hang-up), the stop pipe is
  // readable (CANCELLED) or `deadline` passes (DEADLINE_EXCEEDED).
  absl::Status WaitFd(int fd, short events, MonotonicTime deadline);
  absl::Status Handshake(int proxy_fd, std::string* early_tunnel_bytes);
  absl::StatusOr<int> AcceptClient();
  void Pump(int client_fd, int proxy_fd, std::string to_client);
  void SetHandshakeStatus(absl::Status status);

  const Socks5RelayOptions options_;
  std::string dir_;
  std::string socket_path_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};  // written by the destructor to stop Run()
  mutable Mutex mu_;
  absl::optional<absl::Status> handshake_status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace cloudlink::socks5

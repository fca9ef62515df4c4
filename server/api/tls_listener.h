#pragma once

// The remote listener (--listen): TCP accepted by us, TLS ended in this
// process, and each connection's plain text handed to gRPC through a socket
// pair (a ConnectionSink: the gRPC server), as the Unix socket's connections
// are. The verified client certificate of each connection is recorded in the
// UnixPeerRegistry under the descriptor gRPC got (a TlsPeer), where the
// Authorizer finds it; gRPC itself never sees TLS.
//
// Why not gRPC's own TLS listener: it has no connection caps and no
// handshake deadline of ours, and once out of descriptors it stopped
// accepting for good. Here:
//  - at most `max_connections` connections at once (handshaking or
//    established), and `max_connections_per_address` from one source
//    address; a connection over a cap is closed at once;
//  - a connection that has not completed its TLS handshake within
//    `handshake_timeout` is closed;
//  - an accept error (EMFILE, ENFILE, ENOBUFS, ECONNABORTED, ...) never ends
//    the listener: it pauses accepting for 100 ms and tries again;
//  - lines about refused connections and errors are rate-limited
//    (log_throttle.h).
// A connection's idleness is gRPC's business (api_server.h sets its idle and
// keepalive limits, which apply to both listeners).
//
// One thread runs the whole listener: accepting, handshakes and relaying
// (epoll, non-blocking sockets, at most 64 KiB buffered per direction and
// connection).

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/connection_sink.h"
#include "server/api/log_throttle.h"
#include "server/api/remote_listener.h"
#include "server/api/unix_peer_registry.h"
#include "server/common/mutex.h"

namespace cloudlink::api {

struct TlsListenerOptions {
  std::string address;        // "HOST:PORT" as --listen takes it (port 0: any)
  int max_connections = 128;  // --listen-max-connections
  int max_connections_per_address = 16;  // --listen-max-connections-per-address
  absl::Duration handshake_timeout =
      absl::Seconds(10);  // --tls-handshake-timeout
};

class TlsListener {
 public:
  // Binds every address `options.address` resolves to, listens, and starts
  // the listener's thread. `tls`, `peers` and `sink`
  // must outlive the listener (`tls` is shared). UNAVAILABLE LISTEN_FAILED
  // when no address can be bound.
  static absl::StatusOr<std::unique_ptr<TlsListener>> Start(
      const TlsListenerOptions& options, std::shared_ptr<TlsServerContext> tls,
      UnixPeerRegistry* peers, ConnectionSink* sink);

  // The port bound (useful with port 0).
  int port() const { return port_; }

  // Connections from now on are set up with `tls` (a reload of the
  // certificate, CAs or CRL); established ones keep theirs. Thread-safe.
  void SetTlsContext(std::shared_ptr<TlsServerContext> tls);

  // Connections held now (handshaking or established). Thread-safe.
  int connections() const { return connection_count_.load(); }

  // Stops accepting, closes every connection (gRPC sees them end) and joins
  // the thread. Idempotent.
  void Stop();
  ~TlsListener();

  TlsListener(const TlsListener&) = delete;
  TlsListener& operator=(const TlsListener&) = delete;

 private:
  struct Connection;

  TlsListener(const TlsListenerOptions& options,
              std::shared_ptr<TlsServerContext> tls, UnixPeerRegistry* peers,
              ConnectionSink* sink);

  void Run();
  void AcceptAll(int listen_fd);
  // Advances `c` (handshake, then relaying); false when it must be closed.
  bool Pump(Connection* c);
  bool Handshake(Connection* c);
  bool HandOver(Connection* c);
  bool Relay(Connection* c);
  void UpdateInterest(Connection* c);
  void Close(Connection* c);
  void PauseAccepting();

  const TlsListenerOptions options_;
  mutable Mutex mu_;
  std::shared_ptr<TlsServerContext> tls_ ABSL_GUARDED_BY(mu_);
  UnixPeerRegistry* const peers_;
  ConnectionSink* const sink_;
  std::vector<int> listen_fds_;
  int port_ = 0;
  int epoll_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::thread thread_;
  bool stopped_ = false;
  std::atomic<int> connection_count_{0};

  // The listener's thread only.
  std::map<Connection*, std::unique_ptr<Connection>> connections_;
  std::map<std::string, int> per_address_;
  MonotonicTime accept_paused_until_ = MonotonicTime::InfinitePast();
  bool accept_paused_ = false;

  LogThrottle accept_errors_;
  LogThrottle over_cap_;
  LogThrottle handshake_failures_;
};

}  // namespace cloudlink::api

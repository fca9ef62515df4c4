#pragma once

// The gRPC server of the API: the CloudLink service, server reflection and
// grpc.health.v1, on the Unix socket (always) and on a remote mutual-TLS
// listener (optional). gRPC listens on nothing itself: Unix socket
// connections are accepted by a UnixSocketListener, remote ones by a
// TlsListener (which also ends their TLS), and both record each caller in
// the UnixPeerRegistry the service's Authorizer reads.
//
// Server reflection and health answer only callers who may read the state
// (builtin_services_guard.h).
//
// gRPC runs only while there are connections (on_demand_server.h): it
// stops once none has been open for `idle_stop`, and starts again for the
// next one.
//
// On every connection gRPC closes one that has had no call for
// `idle_timeout` (a GOAWAY, GRPC_ARG_MAX_CONNECTION_IDLE_MS), and pings the
// peer after `keepalive_time` without traffic, closing the connection when
// no answer comes within `keepalive_timeout` (a dead or silent peer).

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/cloudlink_service.h"
#include "server/api/on_demand_server.h"
#include "server/api/tls_listener.h"
#include "server/api/unix_peer_registry.h"
#include "server/api/unix_socket_listener.h"

namespace cloudlink::api {

struct ApiServerOptions {
  std::string socket_path;
  gid_t socket_group = 0;  // see UnixPolicy::socket_gid
  // The remote listener; its address "" for none. Needs `remote_tls`
  // (LoadMutualTlsCredentials).
  TlsListenerOptions remote;
  std::shared_ptr<TlsServerContext> remote_tls;
  // Connection limits of both listeners (see above).
  absl::Duration idle_timeout = absl::Minutes(5);
  absl::Duration keepalive_time = absl::Minutes(1);
  absl::Duration keepalive_timeout = absl::Seconds(20);
  // gRPC stops after this long without an open connection (zero: never).
  absl::Duration idle_stop = absl::Seconds(10);
  // Unix socket connections open at once: per uid and for all uids but root
  // together (root is never refused).
  int socket_max_connections_per_uid = 64;
  int socket_max_connections = 512;
  // --publisher-group's gid: given access to the socket by an ACL entry.
  absl::optional<gid_t> publisher_gid;
  // The most threads gRPC may use (grpc::ResourceQuota::SetMaxThreads);
  // a call that finds none is answered RESOURCE_EXHAUSTED by gRPC. The
  // stream caps (stream_limits.h) keep streams well below it.
  int max_threads = 128;
};

class ApiServer {
 public:
  // Prepares the socket path (see unix_socket.h), starts the server (and
  // the remote listener, when asked), then the Unix socket (mode 0660,
  // group `socket_group`). `service` and `peers` must outlive the server.
  // Errors: those of PrepareSocketPath, OnDemandServer::Start,
  // UnixSocketListener::Start and TlsListener::Start.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(
      const ApiServerOptions& options, CloudLinkService* service,
      UnixPeerRegistry* peers);

  // Calls in progress get this long to end when the server shuts down;
  // then they are cancelled.
  static constexpr absl::Duration kShutdownGrace = absl::Seconds(5);

  // Ends streams, stops accepting, waits up to kShutdownGrace for calls in
  // progress, and removes the socket. Idempotent. It can block for ever when
  // gRPC lost work to a thread the system refused: see main.cc's bounded
  // stop (DeadlineRunner).
  void Shutdown();
  ~ApiServer();

  // The remote listener's port (useful with port 0), or 0 without one.
  int remote_port() const { return remote_ != nullptr ? remote_->port() : 0; }
  // The remote listener, or nullptr without one.
  TlsListener* remote() const { return remote_.get(); }

  // Re-reads the remote listener's files (`flags`: certificate, key, client
  // CAs, CRL, allowed subjects) and puts them in force: new connections use
  // the new TLS settings, calls from now on the new subjects (given to
  // `authorizer`). On any error nothing changes and the error is returned
  // (and logged). OK without a remote listener. For SIGHUP. Thread-safe.
  absl::Status ReloadRemoteFiles(const RemoteListenerFlags& flags,
                                 Authorizer* authorizer);

 private:
  ApiServer(std::string socket_path, CloudLinkService* service,
            std::unique_ptr<OnDemandServer> grpc,
            std::unique_ptr<UnixSocketListener> listener,
            std::unique_ptr<TlsListener> remote)
      : socket_path_(std::move(socket_path)),
        service_(service),
        grpc_(std::move(grpc)),
        listener_(std::move(listener)),
        remote_(std::move(remote)) {}

  std::string socket_path_;
  CloudLinkService* service_;
  std::unique_ptr<OnDemandServer> grpc_;
  std::unique_ptr<UnixSocketListener> listener_;
  std::unique_ptr<TlsListener> remote_;
  bool shut_down_ = false;
};

}  // namespace cloudlink::api

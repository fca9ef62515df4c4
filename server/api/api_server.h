#pragma once

// The gRPC server of the API: the CloudLink service, server reflection and
// grpc.health.v1, on the Unix socket (always) and on a remote mutual-TLS
// listener (optional). Unix socket connections are accepted by a
// UnixSocketListener, which records each caller's credentials in the
// UnixPeerRegistry the service's Authorizer reads.

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/api/cloudlink_service.h"
#include "server/api/unix_peer_registry.h"
#include "server/api/unix_socket_listener.h"

namespace cloudlink::api {

struct ApiServerOptions {
  std::string socket_path;
  gid_t socket_group = 0;  // see UnixPolicy::socket_gid
  // The remote listener, "HOST:PORT"; "" for none. Needs `remote_credentials`
  // (LoadMutualTlsCredentials).
  std::string listen_address;
  std::shared_ptr<grpc::ServerCredentials> remote_credentials;
};

class ApiServer {
 public:
  // Prepares the socket path (see unix_socket.h), starts the server (and
  // the remote listener, when asked), then the Unix socket (mode 0660,
  // group `socket_group`). `service` and `peers` must outlive the server.
  // Errors: those of PrepareSocketPath and UnixSocketListener::Start;
  // UNAVAILABLE LISTEN_FAILED when the remote address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(
      const ApiServerOptions& options, CloudLinkService* service,
      UnixPeerRegistry* peers);

  // Ends streams, stops accepting, waits up to 5 s for calls in progress,
  // and removes the socket. Idempotent.
  void Shutdown();
  ~ApiServer();

  // The remote listener's port (useful with port 0), or 0 without one.
  int remote_port() const { return remote_port_; }

 private:
  ApiServer(std::string socket_path, CloudLinkService* service,
            std::unique_ptr<grpc::Server> server,
            std::unique_ptr<UnixSocketListener> listener, int remote_port)
      : socket_path_(std::move(socket_path)),
        service_(service),
        server_(std::move(server)),
        listener_(std::move(listener)),
        remote_port_(remote_port) {}

  std::string socket_path_;
  CloudLinkService* service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<UnixSocketListener> listener_;
  int remote_port_;
  bool shut_down_ = false;
};

}  // namespace cloudlink::api

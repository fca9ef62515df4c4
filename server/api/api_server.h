#pragma once

// The gRPC server on the Unix socket: the CloudLink service, server
// reflection and grpc.health.v1.

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/api/cloudlink_service.h"

namespace cloudlink::api {

class ApiServer {
 public:
  // Prepares the socket (see unix_socket.h), starts serving `service` on it
  // and sets its mode to 0660. `service` must outlive the server.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(
      const std::string& socket_path, CloudLinkService* service);

  // Ends streams, stops accepting, waits up to 5 s for calls in progress,
  // and removes the socket. Idempotent.
  void Shutdown();
  ~ApiServer();

 private:
  ApiServer(std::string socket_path, CloudLinkService* service,
            std::unique_ptr<grpc::Server> server)
      : socket_path_(std::move(socket_path)),
        service_(service),
        server_(std::move(server)) {}

  std::string socket_path_;
  CloudLinkService* service_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace cloudlink::api

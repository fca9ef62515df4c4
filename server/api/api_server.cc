#include "server/api/api_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/malformed_request.h"
#include "server/api/unix_socket.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::api {

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(
    const ApiServerOptions& options, CloudLinkService* service,
    UnixPeerRegistry* peers) {
  absl::Status prepared = PrepareSocketPath(options.socket_path);
  if (!prepared.ok()) return prepared;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int remote_port = 0;
  const bool remote = !options.listen_address.empty();
  if (remote) {
    builder.AddListeningPort(options.listen_address, options.remote_credentials,
                             &remote_port);
  }
  builder.RegisterService(service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(MalformedRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || (remote && remote_port == 0)) {
    if (server != nullptr) server->Shutdown();
    return Error(absl::StatusCode::kUnavailable, reason::kListenFailed,
                 remote
                     ? absl::StrCat("cannot listen on ", options.listen_address,
                                    " (--listen); is the address local "
                                    "and the port free?")
                     : "cannot start the gRPC server");
  }
  absl::StatusOr<std::unique_ptr<UnixSocketListener>> listener =
      UnixSocketListener::Start(options.socket_path, options.socket_group,
                                peers, server.get());
  if (!listener.ok()) {
    server->Shutdown();
    return listener.status();
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  LogInfo(absl::StrCat("API: serving on unix:", options.socket_path));
  if (remote) {
    LogInfo(absl::StrCat("API: serving on ", options.listen_address,
                         " (mutual TLS), port ", remote_port));
  }
  return std::unique_ptr<ApiServer>(
      new ApiServer(options.socket_path, service, std::move(server),
                    *std::move(listener), remote_port));
}

void ApiServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  service_->Shutdown();
  listener_->Stop();
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
  unlink(socket_path_.c_str());
  LogInfo(absl::StrCat("API: stopped; removed ", socket_path_));
}

ApiServer::~ApiServer() { Shutdown(); }

}  // namespace cloudlink::api

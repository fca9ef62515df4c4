#include "server/api/api_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "server/api/unix_socket.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::api {

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(
    const std::string& socket_path, CloudLinkService* service) {
  absl::Status prepared = PrepareSocketPath(socket_path);
  if (!prepared.ok()) return prepared;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path,
                           grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  // The socket must never exist with a wider mode than 0660, not even
  // between bind() and the chmod below.
  mode_t old_umask = umask(0117);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old_umask);
  if (server == nullptr) {
    return Error(absl::StatusCode::kUnavailable, "SOCKET_LISTEN_FAILED",
                 absl::StrCat("cannot listen on ", socket_path,
                              "; check the directory's permissions"));
  }
  absl::Status mode = RestrictSocketMode(socket_path);
  if (!mode.ok()) {
    server->Shutdown();
    return mode;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  LogInfo(absl::StrCat("API: serving on unix:", socket_path));
  return std::unique_ptr<ApiServer>(
      new ApiServer(socket_path, service, std::move(server)));
}

void ApiServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  service_->Shutdown();
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
  unlink(socket_path_.c_str());
  LogInfo(absl::StrCat("API: stopped; removed ", socket_path_));
}

ApiServer::~ApiServer() { Shutdown(); }

}  // namespace cloudlink::api

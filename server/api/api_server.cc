#include "server/api/api_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/builtin_services_guard.h"
#include "server/api/malformed_request.h"
#include "server/api/unix_socket.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::api {
namespace {

// See the use in BuildGrpcServer.
constexpr int kSyncPollerTimeoutMs = 60 * 1000;

// What each gRPC server of the API is built with (a copy of the options'
// part that concerns it, so that the builder holds nothing else, such as
// the remote listener's key).
struct GrpcSettings {
  absl::Duration idle_timeout;
  absl::Duration keepalive_time;
  absl::Duration keepalive_timeout;
  int max_threads;
};

// A gRPC server of the API, started, listening on nothing (the listeners hand
// it their connections); nullptr when gRPC cannot start one.
std::unique_ptr<grpc::Server> BuildGrpcServer(const GrpcSettings& settings,
                                              CloudLinkService* service) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(settings.idle_timeout)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      static_cast<int>(absl::ToInt64Milliseconds(settings.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(settings.keepalive_timeout)));
  // gRPC's synchronous server (the unary methods, reflection) keeps up to
  // two poller threads, each waiting on the server's completion queue with
  // a timeout (ServerBuilder's CQ_TIMEOUT_MSEC, 10 s by default). An idle
  // poller wakes at every timeout only to wait again: 0.2 wake-ups/s for
  // the two. Calls and shutdown wake a poller at once whatever the
  // timeout, and a poller beyond the two ends right after its call, not
  // at a timeout (grpc::ThreadManager::MainWorkLoop), so a longer one
  // changes nothing else. 60 s rather than longer keeps a bounded retry
  // should a wake-up ever be missed.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC,
      kSyncPollerTimeoutMs);
  grpc::ResourceQuota quota("cloudlink-api");
  quota.SetMaxThreads(settings.max_threads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(MalformedRequestInterceptorFactory());
  interceptors.push_back(BuiltinServicesGuardFactory(service->authorizer(),
                                                     service->stream_limits()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server != nullptr) {
    server->GetHealthCheckService()->SetServingStatus(true);
  }
  return server;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(
    const ApiServerOptions& options, CloudLinkService* service,
    UnixPeerRegistry* peers) {
  absl::Status prepared = PrepareSocketPath(options.socket_path);
  if (!prepared.ok()) return prepared;

  OnDemandOptions on_demand;
  on_demand.idle_stop = options.idle_stop;
  absl::StatusOr<std::unique_ptr<OnDemandServer>> grpc = OnDemandServer::Start(
      [settings = GrpcSettings{options.idle_timeout, options.keepalive_time,
                               options.keepalive_timeout, options.max_threads},
       service] { return BuildGrpcServer(settings, service); },
      [peers] { return peers->CountOpen(); }, on_demand);
  if (!grpc.ok()) return grpc.status();
  std::unique_ptr<TlsListener> remote;
  if (!options.remote.address.empty()) {
    absl::StatusOr<std::unique_ptr<TlsListener>> started = TlsListener::Start(
        options.remote, options.remote_tls, peers, grpc->get());
    if (!started.ok()) {
      (*grpc)->Shutdown(absl::ZeroDuration());
      return started.status();
    }
    remote = *std::move(started);
  }
  UnixSocketLimits limits;
  limits.max_per_uid = options.socket_max_connections_per_uid;
  limits.max_not_root = options.socket_max_connections;
  limits.extra_group = options.publisher_gid;
  absl::StatusOr<std::unique_ptr<UnixSocketListener>> listener =
      UnixSocketListener::Start(options.socket_path, options.socket_group,
                                peers, grpc->get(), limits);
  if (!listener.ok()) {
    if (remote != nullptr) remote->Stop();
    (*grpc)->Shutdown(absl::ZeroDuration());
    return listener.status();
  }
  LogInfo(absl::StrCat("API: serving on unix:", options.socket_path));
  if (remote != nullptr) {
    LogInfo(absl::StrCat("API: serving on ", options.remote.address,
                         " (mutual TLS), port ", remote->port()));
  }
  return std::unique_ptr<ApiServer>(
      new ApiServer(options.socket_path, service, *std::move(grpc),
                    *std::move(listener), std::move(remote)));
}

absl::Status ApiServer::ReloadRemoteFiles(const RemoteListenerFlags& flags,
                                          Authorizer* authorizer) {
  if (remote_ == nullptr) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<TlsServerContext>> tls =
      LoadMutualTlsCredentials(flags);
  absl::StatusOr<AllowedSubjects> subjects =
      tls.ok() ? AllowedSubjects::Load(flags.allowed_subjects) : tls.status();
  if (!subjects.ok()) {
    LogError(
        absl::StrCat("API: reload failed, the remote listener keeps its "
                     "settings: ",
                     subjects.status().message()));
    return subjects.status();
  }
  remote_->SetTlsContext(*std::move(tls));
  authorizer->SetSubjects(*std::move(subjects));
  LogInfo(
      "API: reloaded the remote listener's certificate, CAs, CRL and "
      "allowed subjects");
  return absl::OkStatus();
}

void ApiServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  service_->Shutdown();
  listener_->Stop();
  if (remote_ != nullptr) remote_->Stop();
  grpc_->Shutdown(kShutdownGrace);
  unlink(socket_path_.c_str());
  LogInfo(absl::StrCat("API: stopped; removed ", socket_path_));
}

ApiServer::~ApiServer() { Shutdown(); }

}  // namespace cloudlink::api

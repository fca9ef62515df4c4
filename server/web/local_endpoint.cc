#include "server/web/local_endpoint.h"

#include <utility>

namespace cloudlink::web {

absl::StatusOr<std::unique_ptr<LocalEndpoint>> LocalEndpoint::Start(
    const LocalEndpointOptions& options, node::NodeController* node,
    state::FileSystem* fs) {
  std::unique_ptr<LocalEndpoint> endpoint(new LocalEndpoint());
  endpoint->node_ = std::make_unique<ControllerWebNode>(node);
  auto key = ClaimKey::Create(fs, options.lib_dir + "/" + kClaimKeyFileName,
                              options.key_gid);
  if (!key.ok()) return key.status();
  endpoint->key_ = *std::move(key);
  WebHandlerOptions handler_options;
  handler_options.check_host = options.address.loopback;
  endpoint->handler_ = std::make_unique<WebHandler>(
      handler_options, endpoint->node_.get(), endpoint->key_.get());
  WebServerOptions server_options;
  server_options.address = options.address;
  auto server = WebServer::Start(server_options, endpoint->handler_.get());
  if (!server.ok()) return server.status();
  endpoint->server_ = *std::move(server);
  return endpoint;
}

LocalEndpoint::~LocalEndpoint() {
  if (server_ != nullptr) server_->Shutdown();
}

}  // namespace cloudlink::web

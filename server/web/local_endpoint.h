#pragma once

// The local HTTP endpoint as cloudlinkd runs it: the claim key file, the
// handler over the node controller and the server, started and stopped
// together (main.cc holds one).

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/node/node_controller.h"
#include "server/state/file_system.h"
#include "server/web/claim_key.h"
#include "server/web/listen_address.h"
#include "server/web/web_handler.h"
#include "server/web/web_server.h"

namespace cloudlink::web {

struct LocalEndpointOptions {
  ListenAddress address;
  std::string lib_dir;  // holds the claim key file (kClaimKeyFileName)
  gid_t key_gid = 0;    // the admin group: may read the key
};

class LocalEndpoint {
 public:
  // Writes the first claim key and starts serving. CLAIM_KEY_WRITE_FAILED or
  // HTTP_LISTEN_FAILED when it cannot. `node` and `fs` must outlive the
  // endpoint.
  static absl::StatusOr<std::unique_ptr<LocalEndpoint>> Start(
      const LocalEndpointOptions& options, node::NodeController* node,
      state::FileSystem* fs);

  // Stops the server (WebServer::Shutdown) before the rest goes away.
  ~LocalEndpoint();

  int port() const { return server_->port(); }

 private:
  LocalEndpoint() = default;

  std::unique_ptr<ControllerWebNode> node_;
  std::unique_ptr<ClaimKey> key_;
  std::unique_ptr<WebHandler> handler_;
  std::unique_ptr<WebServer> server_;
};

}  // namespace cloudlink::web

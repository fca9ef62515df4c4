#pragma once

// The dev cloud as one object: certificates, Spaces, nodes and fault
// switches behind an HTTPS server (cpp-httplib) on a loopback address.
//
// Endpoints (tools/devcloud/README.md):
//   PUT  /api/v1/spaces/nodes/{claim_id}                  claim
//   POST /api/v1/spaces/{space_id}/claim-token/regenerate  Bearer admin token
//   GET  /api/v1/spaces/{space_id}/nodes                  Bearer admin token
//   GET  /api/v1/env?v=&cap=&claim_id=                    link step 1
//   GET  /api/v1/auth/node/{claim_id}/challenge            link step 2
//   POST /api/v1/auth/node/{claim_id}/password             link step 3
//   loopback clients with the admin token of any Space only:
//   POST/DELETE /_dev/faults, GET /_dev/requests?pathPrefix=,
//   POST /_dev/login-error, GET /_dev/nodes/{claim_id}/messages,
//   POST /_dev/nodes/{claim_id}/disconnect, POST /_dev/broker/stop|start
// It owns a mosquitto (broker.h) and an MQTT subscriber (cloud_subscriber.h).
// Requests to the cloud's API routes (not /_dev/) are counted per path and
// may be answered by an armed fault instead of the endpoint.

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/state/file_system.h"
#include "tools/devcloud/broker.h"
#include "tools/devcloud/certificates.h"
#include "tools/devcloud/claim_api.h"
#include "tools/devcloud/cloud_subscriber.h"
#include "tools/devcloud/fault_injector.h"
#include "tools/devcloud/login_api.h"
#include "tools/devcloud/message_log.h"
#include "tools/devcloud/node_registry.h"
#include "tools/devcloud/request_counter.h"
#include "tools/devcloud/space_directory.h"

namespace httplib {
class SSLServer;
struct Request;
struct Response;
}  // namespace httplib

namespace cloudlink::devcloud {

struct DevCloudOptions {
  std::string dir;                 // state and certificates; created if missing
  std::string host = "127.0.0.1";  // listen address
  int port = 0;                    // 0: any free port
  std::string mosquitto_path = "/usr/sbin/mosquitto";
  // mosquitto's max_keepalive: MQTT 5 clients asking for a longer keepalive
  // are told this one (Server Keep Alive), 10 to 65535 (mosquitto refuses
  // less). 0: mosquitto's default (65535).
  int broker_max_keepalive_seconds = 0;
  // DIR's files (certificates, devcloud.json, nodes.json, devcloud.env, the
  // broker's) are written and read through it; must outlive the server.
  state::FileSystem* fs = state::DefaultFileSystem();
};

class DevCloudServer {
 public:
  // Prepares DIR (certificates, devcloud.json, nodes.json), locks it against
  // a second dev cloud, binds the listening socket, and starts mosquitto and
  // the subscriber. Errors:
  // INVALID_ARGUMENT (BAD_DIR), FAILED_PRECONDITION (DIR_IN_USE),
  // UNAVAILABLE (BIND_FAILED), and those of EnsureCertificates /
  // SpaceDirectory::Open, Broker::Start and CloudSubscriber::Start.
  static absl::StatusOr<std::unique_ptr<DevCloudServer>> Create(
      DevCloudOptions options);
  ~DevCloudServer();

  int port() const { return port_; }
  int broker_websocket_port() const { return broker_->websocket_port(); }
  int broker_plain_port() const { return broker_->plain_port(); }
  const std::string& dir() const { return dir_; }

  // Writes DIR/devcloud.env and serves until Stop(); then removes
  // devcloud.env and stops mosquitto. Call once, from one thread.
  absl::Status Serve();

  // Makes Serve() return. Thread-safe; may be called before Serve().
  void Stop();

 private:
  DevCloudServer() = default;
  void InstallRoutes();
  void InstallLinkRoutes();
  void InstallDevRoutes();
  // Counts the request and answers it with an injected fault when one
  // matches; true when it did.
  bool ApplyFault(const httplib::Request& req, httplib::Response& res);
  // True for loopback clients bearing the admin token of any Space;
  // otherwise fills `res` with 403.
  bool AuthorizeDev(const httplib::Request& req, httplib::Response& res);
  absl::Status WriteReadiness();

  std::string dir_;
  state::FileSystem* fs_ = nullptr;
  int lock_fd_ = -1;  // flock on DIR/devcloud.lock
  std::string host_;
  int port_ = 0;
  CertificateFiles certs_;
  std::unique_ptr<SpaceDirectory> spaces_;
  std::unique_ptr<NodeRegistry> nodes_;
  std::unique_ptr<ClaimApi> claims_;
  MessageLog messages_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<CloudSubscriber> subscriber_;
  std::unique_ptr<LoginApi> login_;
  FaultInjector faults_;
  RequestCounter requests_;
  std::unique_ptr<httplib::SSLServer> http_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace cloudlink::devcloud

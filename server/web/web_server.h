#pragma once

// The local HTTP endpoint's sockets: cpp-httplib (Debian's libcpp-httplib,
// which the dev cloud already uses) carries requests to a WebHandler. Its
// blocking model gives each connection a worker thread, so a claim may wait
// its 10 s for online inside the handler without an event loop
// (docs/web.md says why not libwebsockets' server role).
//
// Caps (docs/web.md lists them with their defaults): `workers` connections
// are served at once and `queued` more wait for a worker; beyond that the
// daemon stops accepting, and new connections wait in the kernel's listen
// backlog. A connection idle or slow for `io_timeout` is closed. A body over
// `max_body_bytes` is 413, a request line over 8 KiB is 414, a header line
// over 8 KiB fails the request (cpp-httplib's limits).
//
// Thread-safe.

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/web/listen_address.h"
#include "server/web/web_handler.h"

namespace httplib {
class Server;
}

namespace cloudlink::web {

struct WebServerOptions {
  ListenAddress address;
  size_t workers = 8;
  size_t queued = 16;
  size_t max_body_bytes = 16 * 1024;
  absl::Duration io_timeout = absl::Seconds(5);
};

class WebServer {
 public:
  // Listens on options.address and serves `handler` (which must outlive the
  // server) on a thread of its own. HTTP_LISTEN_FAILED when the address
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<WebServer>> Start(
      const WebServerOptions& options, const WebHandler* handler);

  // Shutdown().
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Stops accepting and waits for the requests being served (each bounded
  // by io_timeout and the handler's claim wait). Idempotent.
  void Shutdown();

  // The bound port (the chosen one when options.address.port was 0).
  int port() const { return port_; }

 private:
  WebServer() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cloudlink::web

#pragma once

// The API's gRPC server, running only while the API has connections.
//
// gRPC 1.51 (Debian 12) keeps threads that wake several times a second
// whatever the server does: its timer threads (iomgr's and the default
// EventEngine's) and the callback API's completion-queue threads, which poll
// with a fixed 1 s timeout (bench/analysis.md, "idle wake-ups"). On a node
// where nothing calls the API for hours, that is the daemon's only steady
// cost. So the server is built at Start, stopped once no API connection has
// been open for `idle_stop` (every gRPC thread ends with it: the server holds
// the last reference to the gRPC library), and built again, in a few
// milliseconds, when the next connection is adopted. The listeners accept
// connections themselves, so the sockets stay open throughout and a caller
// sees no difference beyond that delay.
//
// "Open connections" are counted by the caller's function (the
// UnixPeerRegistry's live entries: a connection is open until gRPC closes
// its descriptor). A connection with no call is closed by gRPC after the
// API's idle timeout (api_server.h), so an idle client keeps the server up
// that long at most. The count is checked every `idle_stop` / 2 while the
// server runs, and not at all while it is stopped (then nothing here wakes),
// so the server stops between `idle_stop` and 1.5 × `idle_stop` after the
// last connection closed.
//
// Building a server needs threads, and gRPC 1.51 aborts the process when the
// system refuses its first synchronous-server thread. So the server is
// stopped only once `reserve_threads` parked threads of ours hold task slots
// for the next build (thread_reserve.h); they are given back right before
// it. When they cannot be held (a task limit is nearly reached), the server
// keeps running, and the stop is tried again after another `idle_stop`.

#include <grpcpp/server.h>

#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api/connection_sink.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/common/thread_reserve.h"

namespace cloudlink::api {

struct OnDemandOptions {
  // The server stops after this long without an open connection; zero or
  // less: it runs until Shutdown.
  absl::Duration idle_stop = absl::Seconds(10);
  // Threads held while stopped: more than gRPC 1.51 starts with a server
  // (about 11).
  int reserve_threads = 16;
  // How they are held: ThreadReserve::Hold, or a test's stand-in.
  std::function<absl::StatusOr<std::unique_ptr<ThreadReserve>>(int)>
      hold_threads = ThreadReserve::Hold;
};

class OnDemandServer final : public ConnectionSink {
 public:
  // Builds and starts a server (listening on nothing: connections come
  // through Adopt); nullptr when gRPC cannot start one.
  using Builder = std::function<std::unique_ptr<grpc::Server>()>;
  // API connections open now. Called with this server's lock held, so it
  // must not call back into the server.
  using OpenConnections = std::function<int()>;

  // Builds the first server and starts the thread that stops it when idle.
  // Errors: UNAVAILABLE LISTEN_FAILED (no server could be built, or no
  // thread).
  static absl::StatusOr<std::unique_ptr<OnDemandServer>> Start(
      Builder build, OpenConnections open_connections, OnDemandOptions options);

  // Hands `fd` to the server, building one first when it is stopped (the
  // reserve given back first). A build that fails closes `fd` and holds
  // the reserve again for the next connection.
  absl::Status Adopt(int fd) override;

  // Stops the server for good: calls in progress get `grace`, then are
  // cancelled. Adopt refuses from here on. Joins the thread. Idempotent.
  void Shutdown(absl::Duration grace);
  ~OnDemandServer() override;

  // Whether a server runs now, and how many were built so far (1 after
  // Start). Thread-safe; for tests and logs.
  bool running() const;
  int builds() const;

  OnDemandServer(const OnDemandServer&) = delete;
  OnDemandServer& operator=(const OnDemandServer&) = delete;

 private:
  OnDemandServer(Builder build, OpenConnections open_connections,
                 OnDemandOptions options)
      : build_(std::move(build)),
        open_connections_(std::move(open_connections)),
        options_(std::move(options)) {}

  void IdleLoop();
  // Shuts the running server down, waiting up to `grace` for its calls.
  void StopServerLocked(absl::Duration grace)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Builder build_;
  const OpenConnections open_connections_;
  const OnDemandOptions options_;
  std::thread idle_thread_;

  mutable Mutex mu_;
  std::unique_ptr<grpc::Server> server_ ABSL_GUARDED_BY(mu_);
  // Held while the server is stopped (see above).
  std::unique_ptr<ThreadReserve> reserve_ ABSL_GUARDED_BY(mu_);
  // The last stop was put off for want of threads (logged once).
  bool stop_put_off_ ABSL_GUARDED_BY(mu_) = false;
  int builds_ ABSL_GUARDED_BY(mu_) = 0;
  // A connection was adopted since the idle thread last looked.
  bool adopted_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cloudlink::api

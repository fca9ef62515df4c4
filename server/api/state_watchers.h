#pragma once

// The WatchState streams, served with gRPC's callback API so that an open
// stream holds no thread: one thread for all of them waits for the node's
// state to change (NodeController::WaitForStateChange) and hands the new
// State to every stream. Each stream gets the current State at once, then at
// most one State per `min_interval`, always the newest (under publish load
// the counters change thousands of times a second). The thread follows the
// state only while streams are open: with none it sleeps until one comes,
// whatever the load. With streams it wakes at most once per change and
// `min_interval` (between writes it does not follow each change), and twice
// a second when nothing changes, whatever the number of streams.

#include <grpcpp/support/server_callback.h>

#include <memory>
#include <set>
#include <thread>

#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/api/stream_limits.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/node/node_controller.h"

namespace cloudlink::api {

class StateWatchers {
 public:
  // `node` must outlive this. Starts the thread.
  explicit StateWatchers(node::NodeController* node,
                         absl::Duration min_interval = absl::Milliseconds(100));
  // Shutdown(), then joins the thread. Every stream must have ended (the
  // gRPC server shut down) before.
  ~StateWatchers();

  // A new stream, holding `lease` until it ends. Ends with OK when the
  // client cancels or Shutdown() is called. Thread-safe.
  grpc::ServerWriteReactor<cloudlink::v1::State>* Add(
      std::unique_ptr<StreamLimits::Lease> lease);
  // A stream that ends at once with `status`.
  static grpc::ServerWriteReactor<cloudlink::v1::State>* Refuse(
      grpc::Status status);

  // Ends every stream (OK) and refuses new ones; stops the thread.
  // Idempotent, thread-safe.
  void Shutdown();

  // Streams open now, and how often the thread woke since it started. For
  // tests.
  size_t size() const;
  uint64_t wakeups() const;

 private:
  class Watcher;

  void Run();
  // Starts a write of the newest State on `w` when one is due; the caller
  // then calls Flush(w). Requires mu_.
  bool DueLocked(Watcher* w, MonotonicTime now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Called when a stream ended (its OnDone).
  void Remove(Watcher* w);
  // How long until the first open stream may get another write.
  absl::Duration RestLocked(MonotonicTime now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  node::NodeController* const node_;
  const absl::Duration min_interval_;
  mutable Mutex mu_;
  std::set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  cloudlink::v1::State latest_ ABSL_GUARDED_BY(mu_);
  uint64_t latest_version_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace cloudlink::api

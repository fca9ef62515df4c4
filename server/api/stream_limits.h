#pragma once

// Caps on the API's open streams (WatchState, Publish, server reflection):
// per connection, per caller, and for all callers but root together. A
// stream over a cap is answered RESOURCE_EXHAUSTED STREAM_LIMIT_REACHED
// naming the cap and its flag. Root (uid 0 on the Unix socket) has no
// per-caller or total cap, only the per-connection one, so root is served
// whatever other callers hold. Together with the bounded thread pool
// (api_server.h) this keeps streams from taking every thread.

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/common/mutex.h"

namespace cloudlink::api {

struct StreamCaps {
  int per_connection = 16;  // --api-max-streams-per-connection
  int per_caller = 32;      // --api-max-streams-per-caller
  int total = 64;           // --api-max-streams (callers but root)
};

class StreamLimits {
 public:
  explicit StreamLimits(StreamCaps caps = StreamCaps()) : caps_(caps) {}

  // An open stream; the slot is given back when it is destroyed.
  class Lease {
   public:
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    friend class StreamLimits;
    Lease(StreamLimits* limits, std::string connection, std::string caller,
          bool counted)
        : limits_(limits),
          connection_(std::move(connection)),
          caller_(std::move(caller)),
          counted_(counted) {}
    StreamLimits* const limits_;
    const std::string connection_;
    const std::string caller_;
    const bool counted_;  // in the per-caller and total counts
  };

  // Takes a slot for a stream of `caller` (a name, e.g. "uid 1000" or a
  // certificate subject) on `connection` (the gRPC peer name); `root`
  // callers skip the per-caller and total caps. RESOURCE_EXHAUSTED
  // STREAM_LIMIT_REACHED when a cap is reached. Thread-safe; the limits must
  // outlive every lease.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(const std::string& connection,
                                                 const std::string& caller,
                                                 bool root);

  // Streams open now (all callers). For tests.
  int open() const;

 private:
  void Release(const Lease& lease);

  const StreamCaps caps_;
  mutable Mutex mu_;
  std::map<std::string, int> per_connection_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> per_caller_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;  // counted leases
  int open_ ABSL_GUARDED_BY(mu_) = 0;   // all leases
};

}  // namespace cloudlink::api

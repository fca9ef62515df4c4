#pragma once

// Counts the requests the dev cloud has seen, per path, and keeps when the
// most recent ones arrived, so tests can assert how often a client tried
// ("retried 3 times", "no retry") and how far apart the tries came ("not
// before Retry-After") by the cloud's own clock rather than by when a test
// happened to look.

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cloudlink::devcloud {

struct SeenRequest {
  std::string path;
  absl::Time received;
};

// Thread-safe.
class RequestCounter {
 public:
  // How many of the most recent requests (of all paths) keep their arrival
  // time; the counts are kept for every request.
  static constexpr size_t kKeptRequests = 1000;

  // Counts a request for `path` that arrived at `received`.
  void Count(absl::string_view path, absl::Time received);
  // Paths starting with `prefix` and how often each was requested.
  std::map<std::string, int> CountsWithPrefix(absl::string_view prefix) const;
  // Of the last kKeptRequests requests, those whose path starts with
  // `prefix`, in the order they were counted.
  std::vector<SeenRequest> RecentWithPrefix(absl::string_view prefix) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> counts_;  // guarded by mu_
  std::deque<SeenRequest> recent_;     // guarded by mu_; oldest first
};

}  // namespace cloudlink::devcloud

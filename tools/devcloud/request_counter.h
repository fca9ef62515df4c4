#pragma once

// Counts the requests the dev cloud has seen, per path, so tests can assert
// how often a client tried ("retried 3 times", "no retry").

#include <map>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink::devcloud {

// Thread-safe.
class RequestCounter {
 public:
  void Count(absl::string_view path);
  // Paths starting with `prefix` and how often each was requested.
  std::map<std::string, int> CountsWithPrefix(absl::string_view prefix) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> counts_;  // guarded by mu_
};

}  // namespace cloudlink::devcloud

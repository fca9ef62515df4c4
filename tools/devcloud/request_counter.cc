#include "tools/devcloud/request_counter.h"

#include "absl/strings/match.h"

namespace cloudlink::devcloud {

void RequestCounter::Count(absl::string_view path, absl::Time received) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[std::string(path)];
  recent_.push_back({std::string(path), received});
  if (recent_.size() > kKeptRequests) recent_.pop_front();
}

std::map<std::string, int> RequestCounter::CountsWithPrefix(
    absl::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int> out;
  for (auto it = counts_.lower_bound(std::string(prefix));
       it != counts_.end() && absl::StartsWith(it->first, prefix); ++it) {
    out.insert(*it);
  }
  return out;
}

std::vector<SeenRequest> RequestCounter::RecentWithPrefix(
    absl::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SeenRequest> out;
  for (const SeenRequest& request : recent_) {
    if (absl::StartsWith(request.path, prefix)) out.push_back(request);
  }
  return out;
}

}  // namespace cloudlink::devcloud

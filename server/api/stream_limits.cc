#include "server/api/stream_limits.h"

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::api {
namespace {

absl::Status Reached(absl::string_view sentence) {
  return Error(absl::StatusCode::kResourceExhausted,
               reason::kStreamLimitReached, sentence);
}

void Decrement(std::map<std::string, int>* counts, const std::string& key) {
  auto it = counts->find(key);
  if (it != counts->end() && --it->second <= 0) counts->erase(it);
}

}  // namespace

StreamLimits::Lease::~Lease() { limits_->Release(*this); }

absl::StatusOr<std::unique_ptr<StreamLimits::Lease>> StreamLimits::Acquire(
    const std::string& connection, const std::string& caller, bool root) {
  MutexLock lock(&mu_);
  int& on_connection = per_connection_[connection];
  if (on_connection >= caps_.per_connection) {
    return Reached(absl::StrCat(
        "this connection already has ", on_connection,
        " open streams, the most allowed (--api-max-streams-per-connection); "
        "close one or open another connection"));
  }
  if (!root) {
    auto mine = per_caller_.find(caller);
    const int held = mine == per_caller_.end() ? 0 : mine->second;
    if (held >= caps_.per_caller) {
      if (on_connection == 0) per_connection_.erase(connection);
      return Reached(absl::StrCat(
          caller, " already has ", held,
          " open streams, the most allowed (--api-max-streams-per-caller)"));
    }
    if (total_ >= caps_.total) {
      if (on_connection == 0) per_connection_.erase(connection);
      return Reached(absl::StrCat(
          total_,
          " streams are open, the most allowed for callers other than root "
          "(--api-max-streams)"));
    }
    ++per_caller_[caller];
    ++total_;
  }
  ++on_connection;
  ++open_;
  return std::unique_ptr<Lease>(new Lease(this, connection, caller, !root));
}

void StreamLimits::Release(const Lease& lease) {
  MutexLock lock(&mu_);
  Decrement(&per_connection_, lease.connection_);
  if (lease.counted_) {
    Decrement(&per_caller_, lease.caller_);
    --total_;
  }
  --open_;
}

int StreamLimits::open() const {
  MutexLock lock(&mu_);
  return open_;
}

}  // namespace cloudlink::api

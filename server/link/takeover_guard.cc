#include "server/link/takeover_guard.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cloudlink::link {

absl::StatusOr<TakeoverGuard::Params> TakeoverGuard::ParseParams(
    absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  if (parts.size() != 5) {
    return absl::InvalidArgumentError(
        "takes 5 comma-separated values: TAKEOVERS,WINDOW,ABRUPT_SESSION,"
        "MIN_DELAY,MAX_DELAY (e.g. 3,40s,20s,10s,20s)");
  }
  Params params;
  if (!absl::SimpleAtoi(parts[0], &params.takeovers) || params.takeovers < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TAKEOVERS \"", parts[0], "\" is not a count of 1 or more"));
  }
  const char* const names[] = {"WINDOW", "ABRUPT_SESSION", "MIN_DELAY",
                               "MAX_DELAY"};
  absl::Duration* const fields[] = {&params.window, &params.abrupt_session,
                                    &params.min_delay, &params.max_delay};
  for (int i = 0; i < 4; ++i) {
    if (!absl::ParseDuration(parts[i + 1], fields[i]) ||
        *fields[i] <= absl::ZeroDuration() ||
        *fields[i] == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          names[i], " \"", parts[i + 1], "\" is not a positive duration"));
    }
  }
  if (params.max_delay < params.min_delay) {
    return absl::InvalidArgumentError("MAX_DELAY is under MIN_DELAY");
  }
  return params;
}

bool TakeoverGuard::OnTakenOver(MonotonicTime now) {
  recent_.push_back(now);
  while (!recent_.empty() && now - recent_.front() > params_.window) {
    recent_.pop_front();
  }
  if (repeated_) {
    delay_ = std::min(delay_ * 2, params_.max_delay);
    return true;
  }
  if (static_cast<int>(recent_.size()) >= params_.takeovers) {
    repeated_ = true;
    delay_ = params_.min_delay;
  }
  return repeated_;
}

bool TakeoverGuard::OnAbruptEnd(MonotonicTime now, absl::Duration online) {
  // Once repeated, our session lasts as long as the other clone waits (up
  // to max_delay) plus its connect: twice max_delay leaves room for that.
  const absl::Duration limit =
      repeated_ ? 2 * params_.max_delay : params_.abrupt_session;
  if (online >= limit) {
    if (repeated_) Reset();  // the clone is gone
    return false;
  }
  return OnTakenOver(now);
}

void TakeoverGuard::OnOtherEnd(absl::Duration online) {
  if (online >= params_.max_delay) Reset();
}

void TakeoverGuard::Reset() {
  recent_.clear();
  repeated_ = false;
  delay_ = absl::ZeroDuration();
}

}  // namespace cloudlink::link

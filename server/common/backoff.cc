#include "server/common/backoff.h"

#include <algorithm>

namespace cloudlink {

Backoff::Backoff(BackoffParams params) { SetParams(params); }

void Backoff::SetParams(BackoffParams params) {
  params_ = params;
  params_.base = std::clamp(params_.base, 1, 10);
  params_.min = std::max(params_.min, absl::Milliseconds(100));
  params_.max = std::max(params_.max, params_.min);
}

absl::Duration Backoff::Ceiling() const {
  absl::Duration ceiling = params_.min;
  for (int i = 0; i < attempts_ && ceiling < params_.max; ++i) {
    ceiling *= params_.base;
  }
  return std::min(ceiling, params_.max);
}

absl::Duration Backoff::Next() {
  const absl::Duration ceiling = Ceiling();
  ++attempts_;
  const int64_t lo = absl::ToInt64Milliseconds(params_.min);
  const int64_t hi = absl::ToInt64Milliseconds(ceiling);
  if (hi <= lo) return params_.min;
  return absl::Milliseconds(
      absl::Uniform<int64_t>(absl::IntervalClosed, gen_, lo, hi));
}

}  // namespace cloudlink

#include "server/publish/latency_histogram.h"

#include <algorithm>

namespace cloudlink::publish {

int LatencyHistogram::BucketOf(int64_t micros) {
  if (micros < 1) micros = 1;
  int power = 63 - __builtin_clzll(static_cast<uint64_t>(micros));
  // The sub-bucket: the 3 bits after the leading one.
  int sub = power >= 3 ? static_cast<int>((micros >> (power - 3)) & 7)
                       : static_cast<int>((micros << (3 - power)) & 7);
  return std::min(power * kSubBuckets + sub, kBuckets - 1);
}

int64_t LatencyHistogram::UpperBoundMicros(int bucket) {
  const int power = bucket / kSubBuckets;
  const int sub = bucket % kSubBuckets;
  // Values in the bucket are below (8 + sub + 1) / 8 × 2^power.
  return ((int64_t{8} + sub + 1) << power) / 8;
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t micros =
      std::max<int64_t>(0, absl::ToInt64Microseconds(latency));
  ++current_[BucketOf(micros)];
  if (++current_count_ >= window_) {
    previous_ = current_;
    previous_count_ = current_count_;
    current_.fill(0);
    current_count_ = 0;
  }
}

absl::Duration LatencyHistogram::Percentile(double fraction) const {
  const uint64_t total = count();
  if (total == 0) return absl::ZeroDuration();
  fraction = std::clamp(fraction, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(fraction * static_cast<double>(total));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += current_[b] + previous_[b];
    if (seen >= rank) return absl::Microseconds(UpperBoundMicros(b));
  }
  return absl::Microseconds(UpperBoundMicros(kBuckets - 1));
}

}  // namespace cloudlink::publish

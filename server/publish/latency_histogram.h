#pragma once

// Publish latency (enqueue → PUBACK) percentiles over recent messages, in
// fixed memory: log-linear buckets (8 per power of two, 1 µs to ~2.5 h,
// relative error ≤ 12.5%) in two generations; a generation is retired
// after `window` samples, so percentiles cover the last window..2×window
// messages. Not thread-safe (the link thread owns it).

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace cloudlink::publish {

class LatencyHistogram {
 public:
  explicit LatencyHistogram(uint64_t window = 10000) : window_(window) {}

  // Negative durations count as zero.
  void Record(absl::Duration latency);
  // The smallest bucket bound below which at least `fraction` (0..1) of
  // the recent samples lie; zero when there are none.
  absl::Duration Percentile(double fraction) const;
  uint64_t count() const { return current_count_ + previous_count_; }

 private:
  static constexpr int kSubBuckets = 8;
  static constexpr int kBuckets = 34 * kSubBuckets;  // 2^0 .. 2^33 µs
  static int BucketOf(int64_t micros);
  static int64_t UpperBoundMicros(int bucket);

  const uint64_t window_;
  std::array<uint32_t, kBuckets> current_{};
  std::array<uint32_t, kBuckets> previous_{};
  uint64_t current_count_ = 0;
  uint64_t previous_count_ = 0;
};

}  // namespace cloudlink::publish

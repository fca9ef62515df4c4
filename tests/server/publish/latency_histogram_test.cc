#include "server/publish/latency_histogram.h"

#include "gtest/gtest.h"

namespace cloudlink::publish {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), absl::ZeroDuration());
}

TEST(LatencyHistogramTest, PercentilesWithinBucketError) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(absl::Microseconds(i * 100));
  const double p50 = absl::ToDoubleMicroseconds(h.Percentile(0.5));
  const double p99 = absl::ToDoubleMicroseconds(h.Percentile(0.99));
  EXPECT_GE(p50, 50000);
  EXPECT_LE(p50, 50000 * 1.13);
  EXPECT_GE(p99, 99000);
  EXPECT_LE(p99, 99000 * 1.13);
}

TEST(LatencyHistogramTest, OldSamplesAgeOut) {
  LatencyHistogram h(100);
  for (int i = 0; i < 100; ++i) h.Record(absl::Seconds(1));
  for (int i = 0; i < 50; ++i) h.Record(absl::Milliseconds(1));
  // The generation of slow samples is still there.
  EXPECT_GE(h.Percentile(0.99), absl::Seconds(1));
  for (int i = 0; i < 50; ++i) h.Record(absl::Milliseconds(1));
  EXPECT_LE(h.Percentile(0.99), absl::Microseconds(1200));
}

}  // namespace
}  // namespace cloudlink::publish

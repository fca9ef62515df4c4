// RequestCounter: counts per path, and the arrival times of the most recent
// requests in the order they came.

#include "tools/devcloud/request_counter.h"

#include "gtest/gtest.h"

namespace cloudlink::devcloud {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(RequestCounterTest, CountsAndTimesByPrefixInArrivalOrder) {
  RequestCounter counter;
  counter.Count("/api/v1/env", kStart);
  counter.Count("/api/v1/spaces/nodes/a", kStart + absl::Milliseconds(1500));
  counter.Count("/api/v1/env", kStart + absl::Seconds(2));

  const std::map<std::string, int> env =
      counter.CountsWithPrefix("/api/v1/env");
  EXPECT_EQ(env, (std::map<std::string, int>{{"/api/v1/env", 2}}));
  const std::vector<SeenRequest> recent =
      counter.RecentWithPrefix("/api/v1/env");
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].path, "/api/v1/env");
  EXPECT_EQ(recent[0].received, kStart);
  EXPECT_EQ(recent[1].received, kStart + absl::Seconds(2));
  EXPECT_EQ(counter.RecentWithPrefix("/api/").size(), 3u);
  EXPECT_TRUE(counter.RecentWithPrefix("/_dev/").empty());
}

TEST(RequestCounterTest, KeepsTheTimesOfTheLastRequestsAndEveryCount) {
  RequestCounter counter;
  const size_t total = RequestCounter::kKeptRequests + 5;
  for (size_t i = 0; i < total; ++i) {
    counter.Count("/api/v1/env", kStart + absl::Seconds(i));
  }
  EXPECT_EQ(counter.CountsWithPrefix("/")["/api/v1/env"],
            static_cast<int>(total));
  const std::vector<SeenRequest> recent = counter.RecentWithPrefix("/");
  ASSERT_EQ(recent.size(), RequestCounter::kKeptRequests);
  EXPECT_EQ(recent.front().received, kStart + absl::Seconds(5));
  EXPECT_EQ(recent.back().received, kStart + absl::Seconds(total - 1));
}

}  // namespace
}  // namespace cloudlink::devcloud

#include "server/api/stream_limits.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudlink::api {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

using Leases = std::vector<std::unique_ptr<StreamLimits::Lease>>;

void ExpectRefused(
    const absl::StatusOr<std::unique_ptr<StreamLimits::Lease>>& lease,
    const std::string& flag) {
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(lease.status().message()),
              AllOf(HasSubstr("STREAM_LIMIT_REACHED"), HasSubstr(flag)));
}

StreamCaps Caps() {
  StreamCaps caps;
  caps.per_connection = 2;
  caps.per_caller = 3;
  caps.total = 4;
  return caps;
}

TEST(StreamLimitsTest, PerConnectionThenPerCallerThenTotal) {
  StreamLimits limits(Caps());
  Leases held;
  for (int i = 0; i < 2; ++i) {
    auto lease = limits.Acquire("fd:70", "uid 1000", false);
    ASSERT_TRUE(lease.ok());
    held.push_back(*std::move(lease));
  }
  ExpectRefused(limits.Acquire("fd:70", "uid 1000", false),
                "--api-max-streams-per-connection");
  auto third = limits.Acquire("fd:71", "uid 1000", false);
  ASSERT_TRUE(third.ok());
  held.push_back(*std::move(third));
  ExpectRefused(limits.Acquire("fd:72", "uid 1000", false),
                "--api-max-streams-per-caller");
  auto fourth = limits.Acquire("fd:73", "uid 1001", false);
  ASSERT_TRUE(fourth.ok());
  held.push_back(*std::move(fourth));
  ExpectRefused(limits.Acquire("fd:74", "uid 1002", false),
                "--api-max-streams");
  EXPECT_EQ(limits.open(), 4);
}

TEST(StreamLimitsTest, RootHasOnlyThePerConnectionCap) {
  StreamLimits limits(Caps());
  Leases held;
  for (int i = 0; i < 4; ++i) {
    auto lease = limits.Acquire("fd:80", "uid 1000", false);
    if (lease.ok()) held.push_back(*std::move(lease));
    auto other = limits.Acquire("fd:81", "uid 1001", false);
    if (other.ok()) held.push_back(*std::move(other));
  }
  ASSERT_EQ(limits.open(), 4);  // the total cap is reached
  for (int connection = 0; connection < 10; ++connection) {
    const std::string name = "fd:" + std::to_string(100 + connection);
    for (int i = 0; i < 2; ++i) {
      auto lease = limits.Acquire(name, "uid 0", true);
      ASSERT_TRUE(lease.ok()) << lease.status();
      held.push_back(*std::move(lease));
    }
    ExpectRefused(limits.Acquire(name, "uid 0", true),
                  "--api-max-streams-per-connection");
  }
}

TEST(StreamLimitsTest, AnEndedStreamGivesItsSlotBack) {
  StreamLimits limits(Caps());
  Leases held;
  for (int i = 0; i < 3; ++i) {
    auto lease =
        limits.Acquire("fd:" + std::to_string(90 + i), "tls CN=a", false);
    ASSERT_TRUE(lease.ok());
    held.push_back(*std::move(lease));
  }
  EXPECT_FALSE(limits.Acquire("fd:95", "tls CN=a", false).ok());
  held.pop_back();
  EXPECT_TRUE(limits.Acquire("fd:95", "tls CN=a", false).ok());
  held.clear();
  EXPECT_EQ(limits.open(), 0);
}

}  // namespace
}  // namespace cloudlink::api

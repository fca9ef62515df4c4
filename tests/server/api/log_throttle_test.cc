#include "server/api/log_throttle.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_clock.h"

namespace cloudlink::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(LogThrottleTest, OneLineASecondWithACountOfTheRest) {
  testing::FakeClock clock;
  LogThrottle throttle(absl::Seconds(1), &clock);
  ::testing::internal::CaptureStderr();
  throttle.Log(LogLevel::kWarning, "API: accept failed: Too many open files");
  for (int i = 0; i < 500; ++i) {
    throttle.Log(LogLevel::kWarning, "API: accept failed: Too many open files");
  }
  clock.Advance(absl::Milliseconds(999));
  throttle.Log(LogLevel::kWarning, "API: accept failed: Too many open files");
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Lines(out), 1) << out;
  EXPECT_THAT(out, Not(HasSubstr("more like it")));

  ::testing::internal::CaptureStderr();
  clock.Advance(absl::Milliseconds(1));
  throttle.Log(LogLevel::kWarning, "API: accept failed: Too many open files");
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Lines(out), 1) << out;
  EXPECT_THAT(out, HasSubstr("(and 501 more like it in the last 1s)"));

  // Quiet for a while: the next line goes out alone.
  ::testing::internal::CaptureStderr();
  clock.Advance(absl::Seconds(5));
  throttle.Log(LogLevel::kWarning, "API: accept failed: Too many open files");
  out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(Lines(out), 1);
  EXPECT_THAT(out, Not(HasSubstr("more like it")));
}

}  // namespace
}  // namespace cloudlink::api

#include "server/common/signals.h"

#include <signal.h>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace cloudlink {
namespace {

TEST(BlockedSignalsTest, APendingSignalIsTakenByWait) {
  BlockedSignals signals({SIGUSR1, SIGUSR2});
  // Blocked: raise() leaves it pending instead of ending the test.
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(signals.Wait(absl::Seconds(5)), SIGUSR2);
  ASSERT_EQ(raise(SIGUSR1), 0);
  EXPECT_EQ(signals.Wait(), SIGUSR1);
}

TEST(BlockedSignalsTest, WaitGivesZeroWhenTheTimeoutPasses) {
  BlockedSignals signals({SIGUSR1});
  EXPECT_EQ(signals.Wait(absl::Milliseconds(20)), 0);
}

TEST(BlockedSignalsTest, BlocksInTheCallingThreadAndIgnoresSigpipe) {
  signal(SIGPIPE, SIG_DFL);
  BlockedSignals signals({SIGUSR1});
  sigset_t mask;
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &mask), 0);
  EXPECT_EQ(sigismember(&mask, SIGUSR1), 1);
  struct sigaction action;
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &action), 0);
  EXPECT_EQ(action.sa_handler, SIG_IGN);
}

}  // namespace
}  // namespace cloudlink

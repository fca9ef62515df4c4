#include "server/publish/room_wait.h"

#include <atomic>
#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/mutex.h"
#include "tests/testing/test_clock.h"

namespace cloudlink::publish {
namespace {

TEST(WaitForRoomTest, RoomAtOnceIsTrue) {
  Mutex mu;
  testing::FakeClock clock;
  MutexLock lock(&mu);
  EXPECT_TRUE(WaitForRoom(
      mu, [] { return true; }, &clock, MonotonicTime::InfinitePast(), nullptr));
}

TEST(WaitForRoomTest, PassedDeadlineIsFalse) {
  Mutex mu;
  testing::FakeClock clock;
  MutexLock lock(&mu);
  EXPECT_FALSE(WaitForRoom(
      mu, [] { return false; }, &clock, clock.MonotonicNow(), nullptr));
}

TEST(WaitForRoomTest, CancellationEndsTheWait) {
  Mutex mu;
  testing::FakeClock clock;  // never moves: only the cancellation ends it
  int polls = 0;
  MutexLock lock(&mu);
  EXPECT_FALSE(WaitForRoom(
      mu, [] { return false; }, &clock, MonotonicTime::InfiniteFuture(),
      [&] { return ++polls == 3; }));
  EXPECT_EQ(polls, 3);
}

TEST(WaitForRoomTest, RoomMadeByAnotherThreadEndsTheWait) {
  Mutex mu;
  bool room = false;
  std::thread maker([&] {
    MutexLock lock(&mu);
    room = true;
  });
  {
    MutexLock lock(&mu);
    EXPECT_TRUE(WaitForRoom(
        mu, [&] { return room; }, RealClock(),
        RealClock()->MonotonicNow() + absl::Seconds(10), nullptr));
  }
  maker.join();
}

}  // namespace
}  // namespace cloudlink::publish

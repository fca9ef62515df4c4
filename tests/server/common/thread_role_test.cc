#include "server/common/thread_role.h"

#include <thread>

#include "absl/base/thread_annotations.h"
#include "gtest/gtest.h"

namespace cloudlink {
namespace {

// What the role is for: state only its thread may touch, checked by the
// analysis (a use outside the role does not compile under --config=tsa).
struct Worker {
  ThreadRole role{"worker"};
  int steps ABSL_GUARDED_BY(role) = 0;

  void Step() ABSL_EXCLUSIVE_LOCKS_REQUIRED(role) { ++steps; }
  // A callback the analysis cannot follow into: it asserts the role.
  void StepFromCallback() {
    role.AssertHeld();
    ++steps;
  }
};

TEST(ThreadRoleTest, ScopeMakesTheCallingThreadTheHolder) {
  Worker worker;
  EXPECT_FALSE(worker.role.HeldByCallingThread());
  {
    ThreadRoleScope scope(&worker.role);
    EXPECT_TRUE(worker.role.HeldByCallingThread());
    worker.Step();
    worker.StepFromCallback();
    EXPECT_EQ(worker.steps, 2);
  }
  EXPECT_FALSE(worker.role.HeldByCallingThread());
}

TEST(ThreadRoleTest, AnotherThreadMayTakeTheRoleOnceItIsLeft) {
  Worker worker;
  {
    ThreadRoleScope scope(&worker.role);
    worker.Step();
  }
  bool held_there = false;
  std::thread other([&] {
    ThreadRoleScope scope(&worker.role);
    held_there = worker.role.HeldByCallingThread();
    worker.Step();
  });
  other.join();
  EXPECT_TRUE(held_there);
  EXPECT_FALSE(worker.role.HeldByCallingThread());
  ThreadRoleScope scope(&worker.role);
  EXPECT_EQ(worker.steps, 2);
}

class ThreadRoleDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef NDEBUG
    GTEST_SKIP() << "release builds do not check thread roles";
#endif
    // The statements start threads; re-run the binary rather than fork.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
  }
};

TEST_F(ThreadRoleDeathTest, EnteringARoleAnotherThreadHoldsAborts) {
  EXPECT_DEATH(
      {
        ThreadRole role("spool writer");
        std::thread holder([&] { role.Enter(); });  // and never exits
        holder.join();
        role.Enter();
      },
      "thread role \"spool writer\": thread .* entered it, but it is held "
      "by thread");
}

TEST_F(ThreadRoleDeathTest, AssertingARoleNotHeldAborts) {
  EXPECT_DEATH(
      {
        ThreadRole role("link");
        role.AssertHeld();
      },
      "thread role \"link\": thread .* asserted it, but it is held by no "
      "thread");
  EXPECT_DEATH(
      {
        Worker worker;
        std::thread owner([&] {
          worker.role.Enter();
          worker.Step();
        });
        owner.join();
        worker.StepFromCallback();  // on a thread that does not hold it
      },
      "asserted it, but it is held by thread");
}

TEST_F(ThreadRoleDeathTest, ExitingARoleNotHeldAborts) {
  EXPECT_DEATH(
      {
        ThreadRole role("worker");
        std::thread holder([&] { role.Enter(); });
        holder.join();
        role.Exit();
      },
      "exited it, but it is held by thread");
}

TEST_F(ThreadRoleDeathTest, EnteringTwiceOnOneThreadAborts) {
  EXPECT_DEATH(
      {
        ThreadRole role("worker");
        role.Enter();
        role.Enter();
      },
      "entered it, but it is held by thread");
}

}  // namespace
}  // namespace cloudlink

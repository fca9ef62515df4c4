#include "server/publish/publish_queue.h"

#include <atomic>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/notification.h"
#include "tests/testing/test_clock.h"

namespace cloudlink::publish {
namespace {

using ::cloudlink::testing::FakeClock;

MonotonicTime MonoNow() { return RealClock()->MonotonicNow(); }

Message Msg(std::string payload,
            std::vector<absl::Status>* outcomes = nullptr) {
  Message m;
  m.topic = "t";
  m.payload = std::move(payload);
  if (outcomes != nullptr) {
    m.done = [outcomes](const absl::Status& s) { outcomes->push_back(s); };
  }
  return m;
}

TEST(PublishQueueTest, TakesInOrderWithinBatchBounds) {
  PublishQueue queue(QueueOptions{});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue.Push(Msg(std::string(9, 'a' + i))).ok());
  }
  EXPECT_EQ(queue.stats().queued, 5u);
  EXPECT_EQ(queue.stats().queued_bytes, 50u);  // topic 1 + payload 9
  std::vector<Message> batch = queue.TakeBatch(10, 25);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].payload[0], 'a');
  EXPECT_EQ(batch[1].payload[0], 'b');
  batch = queue.TakeBatch(1, 1000);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].payload[0], 'c');
  // A message larger than max_bytes still comes out alone.
  batch = queue.TakeBatch(10, 1);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(queue.stats().queued, 1u);
  EXPECT_EQ(queue.stats().taken, 4u);
  EXPECT_EQ(queue.stats().queued_bytes, 10u);
}

// Memory goes back after a burst: ReleaseMemoryIfDue runs the release once
// release_after_bytes were taken since the last one, and only with the
// queue empty.
TEST(PublishQueueTest, ReleasesMemoryAfterEnoughBytesWereTakenAndOnlyEmpty) {
  QueueOptions options;
  options.release_after_bytes = 1000;
  int releases = 0;
  options.release_memory = [&] { ++releases; };
  PublishQueue queue(options);
  auto push = [&](size_t bytes) {
    Message message;
    message.topic = "t";
    message.payload = std::string(bytes, 'x');
    ASSERT_TRUE(queue.Push(std::move(message)).ok());
  };
  for (int i = 0; i < 4; ++i) push(400);              // 1604 bytes
  EXPECT_EQ(queue.TakeBatch(3, 1 << 20).size(), 3u);  // 1203 taken
  EXPECT_FALSE(queue.ReleaseMemoryIfDue());           // one still queued
  EXPECT_EQ(releases, 0);
  EXPECT_EQ(queue.TakeBatch(10, 1 << 20).size(), 1u);
  EXPECT_EQ(releases, 0);  // taking alone never releases
  EXPECT_TRUE(queue.ReleaseMemoryIfDue());
  EXPECT_EQ(releases, 1);
  EXPECT_FALSE(queue.ReleaseMemoryIfDue());  // nothing taken since
  // Small messages one at a time, as at a steady rate: the release comes
  // when their bytes add up, not at each drain.
  for (int i = 0; i < 3; ++i) {
    push(400);
    EXPECT_EQ(queue.TakeBatch(10, 1 << 20).size(), 1u);
    EXPECT_EQ(queue.ReleaseMemoryIfDue(), i == 2) << i;
  }
  EXPECT_EQ(releases, 2);
}

// FailAll (a Reclaim) completes every queued message with the given status
// and empties the queue, which goes on accepting messages.
TEST(PublishQueueTest, FailAllCompletesEveryMessageAndKeepsAccepting) {
  PublishQueue queue(QueueOptions{});
  std::vector<absl::Status> outcomes;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(queue.Push(Msg("m", &outcomes)).ok());
  }
  EXPECT_EQ(queue.FailAll(absl::AbortedError("reclaimed")), 3u);
  ASSERT_EQ(outcomes.size(), 3u);
  for (const absl::Status& s : outcomes) EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.stats().queued_bytes, 0u);
  EXPECT_TRUE(queue.Push(Msg("after")).ok());
  EXPECT_EQ(queue.TakeBatch(10, 1 << 20).size(), 1u);
}

TEST(PublishQueueTest, FullByBytesFailsAtOnceAndCounts) {
  PublishQueue queue(QueueOptions{30, 100});
  ASSERT_TRUE(queue.Push(Msg(std::string(19, 'x'))).ok());  // 20 bytes
  absl::Status full = queue.Push(Msg(std::string(19, 'y')));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(full), "QUEUE_FULL");
  EXPECT_TRUE(queue.Push(Msg(std::string(9, 'z'))).ok());  // exactly 30
  EXPECT_EQ(queue.stats().rejected, 1u);
  EXPECT_EQ(queue.stats().pushed, 2u);
}

TEST(PublishQueueTest, FullByMessagesFailsAtOnce) {
  PublishQueue queue(QueueOptions{1 << 20, 2});
  ASSERT_TRUE(queue.Push(Msg("a")).ok());
  ASSERT_TRUE(queue.Push(Msg("b")).ok());
  EXPECT_EQ(ReasonOf(queue.Push(Msg("c"))), "QUEUE_FULL");
}

TEST(PublishQueueTest, TooLargeForTheQueueIsInvalid) {
  PublishQueue queue(QueueOptions{10, 100});
  absl::Status s = queue.Push(Msg(std::string(10, 'x')), /*wait=*/true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(s), "MESSAGE_TOO_LARGE");
  EXPECT_EQ(queue.stats().rejected, 1u);
}

TEST(PublishQueueTest, WaitingPushTimesOutAtItsDeadline) {
  PublishQueue queue(QueueOptions{10, 100});
  ASSERT_TRUE(queue.Push(Msg(std::string(9, 'x'))).ok());
  const MonotonicTime start = MonoNow();
  absl::Status s = queue.Push(Msg("y"), true, start + absl::Milliseconds(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(s), "QUEUE_WAIT_TIMEOUT");
  EXPECT_GE(MonoNow() - start, absl::Milliseconds(190));
  EXPECT_LT(MonoNow() - start, absl::Seconds(5));
  EXPECT_EQ(queue.stats().wait_timed_out, 1u);
}

// The wait's deadline is on the queue's clock, and monotonic: a wall-clock
// step does not end it, the monotonic clock reaching it does (fast-forwarded
// here: an hour's wait ends at once).
TEST(PublishQueueTest, WaitingPushDeadlineIsOnTheQueuesMonotonicClock) {
  FakeClock clock;
  PublishQueue queue(QueueOptions{10, 100}, &clock);
  ASSERT_TRUE(queue.Push(Msg(std::string(9, 'x'))).ok());
  const MonotonicTime deadline = clock.MonotonicNow() + absl::Hours(1);
  Notification done;
  absl::Status result;
  std::thread producer([&] {
    result = queue.Push(Msg("y"), true, deadline);
    done.Notify();
  });
  clock.StepWall(absl::Hours(2));
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  clock.Advance(absl::Hours(1));
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
  EXPECT_EQ(ReasonOf(result), "QUEUE_WAIT_TIMEOUT");
  EXPECT_EQ(queue.stats().wait_timed_out, 1u);
}

TEST(PublishQueueTest, WaitingPushGivesUpWhenCancelled) {
  PublishQueue queue(QueueOptions{10, 100});
  ASSERT_TRUE(queue.Push(Msg(std::string(9, 'x'))).ok());
  std::atomic<bool> cancel{false};
  absl::Status result;
  std::thread producer([&] {
    result = queue.Push(Msg("y"), true, MonoNow() + absl::Seconds(30),
                        [&] { return cancel.load(); });
  });
  cancel = true;
  producer.join();  // bounded: the cancellation is polled every 50 ms
  EXPECT_EQ(ReasonOf(result), "QUEUE_WAIT_TIMEOUT");
}

TEST(PublishQueueTest, WaitingPushProceedsWhenRoomAppears) {
  PublishQueue queue(QueueOptions{10, 100});
  ASSERT_TRUE(queue.Push(Msg(std::string(9, 'x'))).ok());
  Notification pushed;
  absl::Status result;
  std::thread producer([&] {
    result = queue.Push(Msg("y"), true, MonoNow() + absl::Seconds(30));
    pushed.Notify();
  });
  EXPECT_FALSE(pushed.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  EXPECT_EQ(queue.TakeBatch(1, 100).size(), 1u);
  EXPECT_TRUE(pushed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(queue.stats().queued, 1u);
}

TEST(PublishQueueTest, WakeCallbackRunsOnEveryAcceptedPush) {
  PublishQueue queue(QueueOptions{10, 100});
  int wakes = 0;
  queue.SetWakeCallback([&] { ++wakes; });
  ASSERT_TRUE(queue.Push(Msg("a")).ok());
  ASSERT_TRUE(queue.Push(Msg("b")).ok());
  EXPECT_FALSE(queue.Push(Msg(std::string(20, 'c'))).ok());
  EXPECT_EQ(wakes, 2);
  queue.SetWakeCallback(nullptr);
  ASSERT_TRUE(queue.Push(Msg("d")).ok());
  EXPECT_EQ(wakes, 2);
}

TEST(PublishQueueTest, StampsEnqueueTimeFromItsClock) {
  class FixedClock : public Clock {
   public:
    absl::Time WallNow() override { return absl::UnixEpoch(); }
    MonotonicTime MonotonicNow() override {
      return MonotonicTime::FromEpoch(absl::Seconds(42));
    }
  } clock;
  PublishQueue queue(QueueOptions{}, &clock);
  ASSERT_TRUE(queue.Push(Msg("a")).ok());
  EXPECT_EQ(queue.TakeBatch(1, 100)[0].enqueued,
            MonotonicTime::FromEpoch(absl::Seconds(42)));
}

TEST(PublishQueueTest, CloseCompletesQueuedAndRefusesNew) {
  std::vector<absl::Status> outcomes;
  PublishQueue queue(QueueOptions{});
  ASSERT_TRUE(queue.Push(Msg("a", &outcomes)).ok());
  ASSERT_TRUE(queue.Push(Msg("b", &outcomes)).ok());
  queue.Close();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(ReasonOf(outcomes[0]), "SHUTTING_DOWN");
  EXPECT_EQ(ReasonOf(queue.Push(Msg("c"))), "SHUTTING_DOWN");
  EXPECT_EQ(queue.stats().queued, 0u);
}

TEST(PublishQueueTest, CloseWakesAWaitingProducer) {
  PublishQueue queue(QueueOptions{10, 100});
  ASSERT_TRUE(queue.Push(Msg(std::string(9, 'x'))).ok());
  absl::Status result;
  std::thread producer([&] {
    result = queue.Push(Msg("y"), true, MonoNow() + absl::Seconds(30));
  });
  // Whether Close comes before or during the wait, the answer is the same.
  queue.Close();
  producer.join();
  EXPECT_EQ(ReasonOf(result), "SHUTTING_DOWN");
}

TEST(PublishQueueTest, ManyProducersNothingLost) {
  PublishQueue queue(QueueOptions{1000, 1 << 20});
  constexpr int kProducers = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&queue] {
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(
            queue.Push(Msg("0123456789"), true, MonoNow() + absl::Seconds(60))
                .ok());
      }
    });
  }
  size_t taken = 0;
  const MonotonicTime deadline = MonoNow() + absl::Seconds(60);
  while (taken < kProducers * kEach && MonoNow() < deadline) {
    taken += queue.TakeBatch(64, 1 << 20).size();
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(taken, static_cast<size_t>(kProducers * kEach));
  EXPECT_EQ(queue.stats().pushed, static_cast<uint64_t>(kProducers * kEach));
}

}  // namespace
}  // namespace cloudlink::publish

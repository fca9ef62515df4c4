#include "client/ack_book.h"

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/mutex.h"

namespace cloudlink::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// "id:CODE" per ack, to compare whole lists.
std::vector<std::string> Describe(const std::vector<ProducerAck>& acks) {
  std::vector<std::string> out;
  for (const ProducerAck& ack : acks) {
    out.push_back(
        absl::StrCat(ack.id, ":", absl::StatusCodeToString(ack.status.code())));
  }
  return out;
}

cloudlink::v1::PublishAck SingleAck(uint64_t id, int32_t code = 0,
                                    const std::string& message = "") {
  cloudlink::v1::PublishAck ack;
  ack.set_id(id);
  ack.set_code(code);
  ack.set_message(message);
  return ack;
}

TEST(AcksOfTest, SingleAck) {
  EXPECT_THAT(Describe(AcksOf(SingleAck(7))), ElementsAre("7:OK"));
  const std::vector<ProducerAck> failed =
      AcksOf(SingleAck(8, 14, "CLOUD_OFFLINE: the cloud is away"));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].id, 8u);
  EXPECT_EQ(failed[0].status,
            absl::UnavailableError("CLOUD_OFFLINE: the cloud is away"));
}

TEST(AcksOfTest, BatchAck) {
  cloudlink::v1::PublishAck ack;
  ack.add_ok_ids(2);
  ack.add_ok_ids(1);
  cloudlink::v1::PublishFailure* f = ack.add_failed();
  f->set_id(3);
  f->set_code(8);
  f->set_message("QUEUE_FULL: no room");
  const std::vector<ProducerAck> acks = AcksOf(ack);
  EXPECT_THAT(Describe(acks),
              ElementsAre("2:OK", "1:OK", "3:RESOURCE_EXHAUSTED"));
  EXPECT_EQ(acks[2].status.message(), "QUEUE_FULL: no room");
}

TEST(AckBookTest, IdsStayOutstandingUntilAcked) {
  AckBook book(10, AckBook::Delivery::kTake);
  EXPECT_EQ(book.Add(), 1u);
  EXPECT_EQ(book.Add(), 2u);
  EXPECT_EQ(book.Add(), 3u);
  EXPECT_EQ(book.outstanding(), 3u);

  EXPECT_THAT(book.Settle(AcksOf(SingleAck(2))), IsEmpty());
  EXPECT_EQ(book.outstanding(), 2u);
  EXPECT_THAT(Describe(book.Take()), ElementsAre("2:OK"));
  EXPECT_THAT(book.Take(), IsEmpty());

  cloudlink::v1::PublishAck batch;
  batch.add_ok_ids(3);
  cloudlink::v1::PublishFailure* f = batch.add_failed();
  f->set_id(1);
  f->set_code(4);
  EXPECT_THAT(book.Settle(AcksOf(batch)), IsEmpty());
  EXPECT_EQ(book.outstanding(), 0u);
  EXPECT_EQ(book.Add(), 4u);
  EXPECT_THAT(book.Settle(AcksOf(SingleAck(4))), IsEmpty());
  // In the order settled, until taken.
  EXPECT_THAT(Describe(book.Take()),
              ElementsAre("3:OK", "1:DEADLINE_EXCEEDED", "4:OK"));
}

TEST(AckBookTest, ReturnDeliveryHandsAcksBack) {
  AckBook book(10, AckBook::Delivery::kReturn);
  book.Add();
  book.Add();
  EXPECT_THAT(Describe(book.Settle(AcksOf(SingleAck(2, 14)))),
              ElementsAre("2:UNAVAILABLE"));
  EXPECT_EQ(book.outstanding(), 1u);
  EXPECT_THAT(book.Take(), IsEmpty());
}

// An ack for an id that is not outstanding changes nothing outstanding and
// still reaches the caller, as cloudlinkd sent it.
TEST(AckBookTest, AckForAnUnknownIdIsPassedOn) {
  AckBook kept(10, AckBook::Delivery::kTake);
  kept.Add();
  EXPECT_THAT(kept.Settle(AcksOf(SingleAck(99))), IsEmpty());
  EXPECT_EQ(kept.outstanding(), 1u);
  EXPECT_THAT(Describe(kept.Take()), ElementsAre("99:OK"));

  AckBook returned(10, AckBook::Delivery::kReturn);
  returned.Add();
  EXPECT_THAT(Describe(returned.Settle(AcksOf(SingleAck(99)))),
              ElementsAre("99:OK"));
  EXPECT_EQ(returned.outstanding(), 1u);
}

TEST(AckBookTest, EndFailsEveryOutstandingIdExactlyOnce) {
  AckBook book(10, AckBook::Delivery::kTake);
  for (int i = 0; i < 5; ++i) book.Add();
  book.Settle(AcksOf(SingleAck(2)));
  EXPECT_FALSE(book.ended());

  const absl::Status gone = absl::UnavailableError("the stream ended");
  EXPECT_THAT(book.End(gone), IsEmpty());
  EXPECT_TRUE(book.ended());
  EXPECT_EQ(book.outstanding(), 0u);
  const std::vector<ProducerAck> acks = book.Take();
  EXPECT_THAT(Describe(acks),
              ElementsAre("2:OK", "1:UNAVAILABLE", "3:UNAVAILABLE",
                          "4:UNAVAILABLE", "5:UNAVAILABLE"));
  for (size_t i = 1; i < acks.size(); ++i) EXPECT_EQ(acks[i].status, gone);

  // A second end fails nothing again.
  EXPECT_THAT(book.End(absl::CancelledError("again")), IsEmpty());
  EXPECT_THAT(book.Take(), IsEmpty());
  EXPECT_EQ(book.outstanding(), 0u);
}

TEST(AckBookTest, EndReturnsTheFailuresForTheCallback) {
  AckBook book(10, AckBook::Delivery::kReturn);
  book.Add();
  book.Add();
  EXPECT_THAT(Describe(book.End(absl::CancelledError("closed"))),
              ElementsAre("1:CANCELLED", "2:CANCELLED"));
  EXPECT_THAT(book.End(absl::CancelledError("closed")), IsEmpty());
  EXPECT_THAT(book.Take(), IsEmpty());
}

// The window: the book guarded by its owner's Mutex, as the streams keep it.
class AckBookWindowTest : public ::testing::Test {
 protected:
  absl::Status AwaitRoom(absl::Duration timeout) {
    MutexLock lock(&mu_);
    return book_.AwaitRoom(
        &mu_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; },
        timeout);
  }
  void Fill() {
    MutexLock lock(&mu_);
    book_.Add();
    book_.Add();
  }

  Mutex mu_;
  AckBook book_ ABSL_GUARDED_BY(mu_){2, AckBook::Delivery::kTake};
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

TEST_F(AckBookWindowTest, RoomBelowTheWindow) {
  {
    MutexLock lock(&mu_);
    book_.Add();
  }
  EXPECT_TRUE(AwaitRoom(absl::ZeroDuration()).ok());
}

TEST_F(AckBookWindowTest, FullWindowTimesOut) {
  Fill();
  const absl::Status room = AwaitRoom(absl::Milliseconds(20));
  EXPECT_EQ(room.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(room.message(), HasSubstr("window of 2"));
  EXPECT_THAT(room.message(), HasSubstr("once 1 of them are acknowledged"));
  EXPECT_THAT(room.message(), HasSubstr("within 20ms"));
  MutexLock lock(&mu_);
  EXPECT_EQ(book_.outstanding(), 2u);
}

TEST_F(AckBookWindowTest, AnAckOnAnotherThreadMakesRoom) {
  Fill();
  std::thread reader([this] {
    MutexLock lock(&mu_);
    book_.Settle(AcksOf(SingleAck(1)));
  });
  // Bounded; returns as soon as the ack is settled, whichever runs first.
  EXPECT_TRUE(AwaitRoom(absl::Seconds(30)).ok());
  reader.join();
  MutexLock lock(&mu_);
  EXPECT_EQ(book_.outstanding(), 1u);
}

TEST_F(AckBookWindowTest, TheOwnersStopEndsTheWait) {
  Fill();
  std::thread closer([this] {
    MutexLock lock(&mu_);
    stop_ = true;
  });
  EXPECT_TRUE(AwaitRoom(absl::Seconds(30)).ok());
  closer.join();
  MutexLock lock(&mu_);
  EXPECT_EQ(book_.outstanding(), 2u);  // no room: the owner sees stop_
}

TEST_F(AckBookWindowTest, TheEndEndsTheWait) {
  Fill();
  std::thread reader([this] {
    MutexLock lock(&mu_);
    book_.End(absl::UnavailableError("the stream ended"));
  });
  EXPECT_TRUE(AwaitRoom(absl::Seconds(30)).ok());
  reader.join();
  MutexLock lock(&mu_);
  EXPECT_TRUE(book_.ended());
  EXPECT_THAT(Describe(book_.Take()),
              ElementsAre("1:UNAVAILABLE", "2:UNAVAILABLE"));
}

// Once the window filled up, it has room again when a quarter of it is
// free, not at the first ack: a producer faster than its acks wakes once per
// batch of them. Below the window, before it ever filled, there is room.
TEST(AckBookRefillTest, AFullWindowHasRoomAgainWhenAQuarterIsFree) {
  Mutex mu;
  AckBook book(8, AckBook::Delivery::kTake);
  MutexLock lock(&mu);
  auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return book.AwaitRoom(
        &mu, [] { return false; }, absl::ZeroDuration());
  };
  for (int i = 0; i < 7; ++i) book.Add();
  EXPECT_TRUE(room().ok());  // 7 of 8, never full
  book.Add();
  EXPECT_EQ(room().code(), absl::StatusCode::kDeadlineExceeded);
  book.Settle(AcksOf(SingleAck(1)));
  EXPECT_EQ(room().code(), absl::StatusCode::kDeadlineExceeded);  // 7 of 8
  book.Settle(AcksOf(SingleAck(2)));
  EXPECT_TRUE(room().ok());  // 6 of 8: a quarter is free
  book.Add();
  EXPECT_TRUE(room().ok());  // 7 of 8 again, and not full since
}

}  // namespace
}  // namespace cloudlink::client

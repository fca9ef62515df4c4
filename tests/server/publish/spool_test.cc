#include "server/publish/spool.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/common/notification.h"
#include "server/publish/crc32c.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::publish {
namespace {

// The real filesystem, whose data fsyncs (AppendableFile::Sync) can fail or
// block, counted.
class FaultyFiles : public state::PosixFileSystem {
 public:
  std::atomic<int> syncs{0};
  std::atomic<bool> fail_sync{false};
  // When set, the first data fsync blocks until `release` is notified.
  Notification* block_first_sync = nullptr;
  Notification sync_entered;
  Notification release;

 protected:
  absl::Status BeforeStep(WriteStep step, const std::string& path) override {
    if (step != WriteStep::kAppendSync) return absl::OkStatus();
    if (syncs.fetch_add(1) == 0 && block_first_sync != nullptr) {
      sync_entered.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    if (fail_sync) return absl::UnavailableError("injected EIO");
    return absl::OkStatus();
  }
};

struct Outcomes {
  Mutex mu;
  std::vector<absl::Status> all;
  Completion Add() {
    return [this](const absl::Status& s) {
      MutexLock lock(&mu);
      all.push_back(s);
    };
  }
  size_t size() {
    MutexLock lock(&mu);
    return all.size();
  }
  bool AllOk() {
    MutexLock lock(&mu);
    for (const auto& s : all) {
      if (!s.ok()) return false;
    }
    return true;
  }
};

class SpoolTest : public ::testing::Test {
 protected:
  SpoolOptions Options() {
    SpoolOptions o;
    o.dir = tmp_.Join("cloud.d/spool");
    return o;
  }
  std::unique_ptr<Spool> OpenSpool(SpoolOptions o,
                                   state::FileSystem* fs = nullptr) {
    auto spool = Spool::Open(o, fs ? fs : state::DefaultFileSystem());
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? *std::move(spool) : nullptr;
  }
  std::vector<std::string> SegmentFiles(const std::string& dir) {
    auto names = state::DefaultFileSystem()->ListFiles(dir);
    return names.ok() ? *names : std::vector<std::string>{};
  }
  testing::TempDir tmp_;
};

TEST_F(SpoolTest, RoundTripInOrderAfterFsync) {
  Outcomes outcomes;
  auto spool = OpenSpool(Options());
  ASSERT_NE(spool, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(spool
                    ->Append("node-instance-info", absl::StrCat("payload-", i),
                             outcomes.Add())
                    .ok());
  }
  spool->Flush();
  EXPECT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes.AllOk());
  std::vector<Message> ready = spool->TakeReady(10, 1 << 20);
  ASSERT_EQ(ready.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ready[i].topic, "node-instance-info");
    EXPECT_EQ(ready[i].payload, absl::StrCat("payload-", i));
    EXPECT_EQ(ready[i].level, DeliveryLevel::kDurable);
    EXPECT_EQ(ready[i].spool_sequence, static_cast<uint64_t>(i + 1));
  }
  EXPECT_TRUE(spool->TakeReady(10, 1 << 20).empty());  // handed out once
  SpoolStats stats = spool->stats();
  EXPECT_EQ(stats.spooled, 3u);
  EXPECT_EQ(stats.appended, 3u);
  EXPECT_GT(stats.bytes, 0u);
  struct stat st;
  ASSERT_EQ(stat(Options().dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// Descriptors of this process that point to deleted files under `dir`.
int DeletedOpenFilesUnder(const std::string& dir) {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (struct dirent* entry = readdir(d)) {
    char target[4096];
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    const ssize_t len = readlink(link.c_str(), target, sizeof(target) - 1);
    if (len <= 0) continue;
    const std::string path(target, static_cast<size_t>(len));
    n += path.rfind(dir, 0) == 0 && path.find("(deleted)") != std::string::npos;
  }
  closedir(d);
  return n;
}

// FailAll (a Reclaim): the committed messages and their segment files are
// dropped (descriptors closed), the spool starts empty and works on.
TEST_F(SpoolTest, FailAllDropsEverythingAndStartsEmpty) {
  Outcomes outcomes;
  auto spool = OpenSpool(Options());
  ASSERT_NE(spool, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        spool->Append("t", absl::StrCat("old-", i), outcomes.Add()).ok());
  }
  spool->Flush();
  ASSERT_EQ(spool->TakeReady(1, 1 << 20).size(), 1u);  // one handed out
  ASSERT_FALSE(SegmentFiles(Options().dir).empty());

  EXPECT_EQ(spool->FailAll(absl::AbortedError("reclaimed")), 3u);
  EXPECT_EQ(spool->stats().spooled, 0u);
  EXPECT_EQ(spool->stats().bytes, 0u);
  EXPECT_FALSE(spool->has_ready());
  EXPECT_TRUE(SegmentFiles(Options().dir).empty());
  EXPECT_EQ(DeletedOpenFilesUnder(Options().dir), 0);
  spool->Ack(1);  // the handed-out one's late ack is ignored

  ASSERT_TRUE(spool->Append("t", "new", outcomes.Add()).ok());
  spool->Flush();
  std::vector<Message> ready = spool->TakeReady(10, 1 << 20);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].payload, "new");
  EXPECT_TRUE(outcomes.AllOk());  // the old ones were acked at their fsync
}

// The segments hold messages: a directory that exists with a wider mode is
// tightened to 0700 at open.
TEST_F(SpoolTest, ExistingDirectoryIsTightenedTo0700) {
  ASSERT_TRUE(state::DefaultFileSystem()->MakeDirs(Options().dir, 0755).ok());
  auto spool = OpenSpool(Options());
  ASSERT_NE(spool, nullptr);
  struct stat st;
  ASSERT_EQ(stat(Options().dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

// A segment name that is a link to another file (planted by someone who
// could write to the directory): the file it points to is never read,
// truncated or written; the link is left in place and logged; a segment
// that would be created under its name fails instead.
TEST_F(SpoolTest, ASymlinkedSegmentIsNeverFollowed) {
  ASSERT_TRUE(state::DefaultFileSystem()->MakeDirs(Options().dir, 0700).ok());
  const std::string victim = tmp_.Join("victim.txt");
  ASSERT_TRUE(testing::WriteFile(victim, "not a spool record\n").ok());
  const std::string link = Options().dir + "/seg-00000000000000000001.log";
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  ::testing::internal::CaptureStderr();
  auto spool = OpenSpool(Options());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(spool, nullptr);
  EXPECT_THAT(log,
              ::testing::AllOf(::testing::HasSubstr(link),
                               ::testing::HasSubstr("symbolic link"),
                               ::testing::HasSubstr("leaving it in place")));
  EXPECT_EQ(spool->stats().corrupt, 0u);
  Outcomes outcomes;
  ASSERT_TRUE(spool->Append("t", "payload", outcomes.Add()).ok());
  spool->Flush();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes.AllOk());
  EXPECT_EQ(testing::ReadFileOrEmpty(victim), "not a spool record\n");
  struct stat st;
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(SpoolTest, FlushWithNothingWrittenIsQuiet) {
  ::testing::internal::CaptureStderr();
  auto spool = OpenSpool(Options());
  spool->Flush();
  spool->Flush();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  EXPECT_EQ(spool->stats().write_failed, 0u);
  EXPECT_EQ(spool->stats().segments, 0u);
}

TEST_F(SpoolTest, GroupCommitOneFsyncForManyAppends) {
  FaultyFiles fs;
  Notification unused;
  fs.block_first_sync = &unused;
  Outcomes outcomes;
  auto spool = OpenSpool(Options(), &fs);
  ASSERT_NE(spool, nullptr);
  ASSERT_TRUE(spool->Append("t", "first", outcomes.Add()).ok());
  ASSERT_TRUE(
      fs.sync_entered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The writer is inside the first fsync: these all queue for the next one.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(spool->Append("t", absl::StrCat(i), outcomes.Add()).ok());
  }
  EXPECT_EQ(outcomes.size(), 0u);  // nobody is acked before their fsync
  fs.release.Notify();
  spool->Flush();
  EXPECT_EQ(outcomes.size(), 101u);
  EXPECT_TRUE(outcomes.AllOk());
  EXPECT_EQ(fs.syncs.load(), 2);
  EXPECT_EQ(spool->stats().syncs, 2u);
}

TEST_F(SpoolTest, FsyncFailureFailsTheBatchAndNothingIsReady) {
  FaultyFiles fs;
  fs.fail_sync = true;
  Outcomes outcomes;
  auto spool = OpenSpool(Options(), &fs);
  ASSERT_NE(spool, nullptr);
  ASSERT_TRUE(spool->Append("t", "x", outcomes.Add()).ok());
  spool->Flush();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(ReasonOf(outcomes.all[0]), "SPOOL_WRITE_FAILED");
  EXPECT_EQ(outcomes.all[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(spool->TakeReady(10, 1 << 20).empty());
  EXPECT_EQ(spool->stats().write_failed, 1u);
  EXPECT_EQ(spool->stats().spooled, 0u);
  // The disk comes back: later appends work.
  fs.fail_sync = false;
  ASSERT_TRUE(spool->Append("t", "y", outcomes.Add()).ok());
  spool->Flush();
  EXPECT_TRUE(outcomes.all[1].ok());
  EXPECT_EQ(spool->TakeReady(10, 1 << 20).size(), 1u);
}

TEST_F(SpoolTest, ReplayAfterReopenSkipsAcked) {
  {
    auto spool = OpenSpool(Options());
    for (int i = 1; i <= 10; ++i) {
      ASSERT_TRUE(spool->Append("t", absl::StrCat(i), nullptr).ok());
    }
    spool->Flush();
    std::vector<Message> ready = spool->TakeReady(100, 1 << 20);
    ASSERT_EQ(ready.size(), 10u);
    for (uint64_t seq : {1, 2, 3, 5, 8}) spool->Ack(seq);
    spool->Flush();
    EXPECT_EQ(spool->stats().spooled, 5u);
  }
  auto spool = OpenSpool(Options());
  EXPECT_EQ(spool->stats().replayed, 5u);
  std::vector<Message> ready = spool->TakeReady(100, 1 << 20);
  std::vector<std::string> payloads;
  for (const auto& m : ready) payloads.push_back(m.payload);
  EXPECT_EQ(payloads, (std::vector<std::string>{"4", "6", "7", "9", "10"}));
  // New sequences continue above the old ones.
  ASSERT_TRUE(spool->Append("t", "11", nullptr).ok());
  spool->Flush();
  ready = spool->TakeReady(100, 1 << 20);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].spool_sequence, 11u);
}

TEST_F(SpoolTest, FullyAckedSegmentsAreDeleted) {
  SpoolOptions o = Options();
  o.segment_bytes = 300;  // a few records each
  auto spool = OpenSpool(o);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(spool->Append("t", std::string(50, 'p'), nullptr).ok());
    spool->Flush();  // one commit each, so segments roll
  }
  const size_t before = SegmentFiles(o.dir).size();
  EXPECT_GE(before, 5u);
  EXPECT_EQ(spool->stats().segments, before);
  std::vector<Message> ready = spool->TakeReady(100, 1 << 20);
  ASSERT_EQ(ready.size(), 40u);
  // Acking the newest ones first frees nothing: only whole old segments go
  // (the ack records may even start a new one).
  for (int i = 39; i >= 20; --i) spool->Ack(ready[i].spool_sequence);
  spool->Flush();
  EXPECT_GE(SegmentFiles(o.dir).size(), before);
  for (int i = 0; i < 20; ++i) spool->Ack(ready[i].spool_sequence);
  spool->Flush();
  EXPECT_LE(SegmentFiles(o.dir).size(), 1u);
  EXPECT_EQ(spool->stats().spooled, 0u);
  EXPECT_LT(spool->stats().bytes, 300u * 2);
  spool.reset();
  auto reopened = OpenSpool(o);
  EXPECT_EQ(reopened->stats().replayed, 0u);
}

TEST_F(SpoolTest, BoundRefusesOrWaitsAndAckMakesRoom) {
  SpoolOptions o = Options();
  o.max_bytes = 1000;
  o.segment_bytes = 200;
  auto spool = OpenSpool(o);
  int accepted = 0;
  absl::Status refused;
  for (int i = 0; i < 100; ++i) {
    refused = spool->Append("t", std::string(80, 'x'), nullptr);
    if (!refused.ok()) break;
    ++accepted;
    spool->Flush();
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(refused), "SPOOL_FULL");
  EXPECT_GE(accepted, 5);
  EXPECT_LE(spool->stats().bytes, 1000u);
  EXPECT_EQ(spool->stats().rejected, 1u);
  // Waiting gives up at the deadline.
  absl::Status waited =
      spool->Append("t", std::string(80, 'x'), nullptr, true,
                    RealClock()->MonotonicNow() + absl::Milliseconds(100));
  EXPECT_EQ(ReasonOf(waited), "SPOOL_WAIT_TIMEOUT");
  EXPECT_EQ(spool->stats().wait_timed_out, 1u);
  // A waiting producer gets in once acks free whole segments.
  Outcomes outcomes;
  absl::Status result;
  std::thread producer([&] {
    result = spool->Append("t", std::string(80, 'x'), outcomes.Add(), true,
                           RealClock()->MonotonicNow() + absl::Seconds(30));
  });
  for (const Message& m : spool->TakeReady(100, 1 << 20)) {
    spool->Ack(m.spool_sequence);
  }
  producer.join();
  EXPECT_TRUE(result.ok()) << result;
  spool->Flush();
  EXPECT_TRUE(outcomes.AllOk());
  // Too large for the spool at all.
  EXPECT_EQ(ReasonOf(spool->Append("t", std::string(2000, 'x'), nullptr)),
            "MESSAGE_TOO_LARGE");
}

// The wait's deadline is on the spool's clock, and monotonic: a wall-clock
// step does not end it, the monotonic clock reaching it does (fast-forwarded
// here: an hour's wait ends at once).
TEST_F(SpoolTest, WaitingAppendDeadlineIsOnTheSpoolsMonotonicClock) {
  SpoolOptions o = Options();
  o.max_bytes = 200;  // two records of 100 bytes
  o.segment_bytes = 200;
  cloudlink::testing::FakeClock clock;
  auto opened = Spool::Open(o, state::DefaultFileSystem(), &clock);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Spool> spool = *std::move(opened);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(spool->Append("t", std::string(80, 'x'), nullptr).ok());
  }
  ASSERT_EQ(ReasonOf(spool->Append("t", std::string(80, 'x'), nullptr)),
            "SPOOL_FULL");
  const MonotonicTime deadline = clock.MonotonicNow() + absl::Hours(1);
  Notification done;
  absl::Status result;
  std::thread producer([&] {
    result = spool->Append("t", std::string(80, 'x'), nullptr, true, deadline);
    done.Notify();
  });
  clock.StepWall(absl::Hours(2));
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  clock.Advance(absl::Hours(1));
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
  EXPECT_EQ(ReasonOf(result), "SPOOL_WAIT_TIMEOUT");
  EXPECT_EQ(spool->stats().wait_timed_out, 1u);
}

class SpoolCorruptionTest : public SpoolTest {
 protected:
  // Writes five messages, closes the spool, returns the segment's path.
  std::string WriteFive() {
    auto spool = OpenSpool(Options());
    for (int i = 1; i <= 5; ++i) {
      EXPECT_TRUE(
          spool->Append("topic", absl::StrCat("message-", i), nullptr).ok());
    }
    spool->Flush();
    spool.reset();
    std::vector<std::string> names = SegmentFiles(Options().dir);
    EXPECT_EQ(names.size(), 1u);
    return names.empty() ? "" : Options().dir + "/" + names.back();
  }
  void ExpectReplayed(const std::string& log, size_t intact) {
    ::testing::internal::CaptureStderr();
    auto spool = OpenSpool(Options());
    const std::string err = ::testing::internal::GetCapturedStderr();
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(spool->stats().corrupt, 1u);
    EXPECT_NE(err.find("SPOOL:"), std::string::npos) << err;
    EXPECT_NE(err.find(log), std::string::npos) << err;
    EXPECT_NE(err.find(absl::StrCat("keeping the ", intact, " intact records")),
              std::string::npos)
        << err;
    std::vector<Message> ready = spool->TakeReady(100, 1 << 20);
    ASSERT_EQ(ready.size(), intact);
    EXPECT_EQ(ready.back().payload, absl::StrCat("message-", intact));
    // The bad tail is gone: appending and reopening is clean.
    ASSERT_TRUE(spool->Append("topic", "message-6", nullptr).ok());
    spool->Flush();
    spool.reset();
    auto again = OpenSpool(Options());
    EXPECT_EQ(again->stats().corrupt, 0u);
    EXPECT_EQ(again->stats().replayed, intact + 1);
  }
};

TEST_F(SpoolCorruptionTest, TornTailIsTruncatedIntactRecordsKept) {
  const std::string path = WriteFive();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  ASSERT_EQ(truncate(path.c_str(), st.st_size - 3), 0);  // mid-record
  ExpectReplayed("past the end of the file", 4);
}

TEST_F(SpoolCorruptionTest, FlippedByteInLastRecordIsDetected) {
  const std::string path = WriteFive();
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-2, std::ios::end);
  char c;
  f.get(c);
  f.seekp(-2, std::ios::end);
  f.put(static_cast<char>(c ^ 0x40));
  f.close();
  ExpectReplayed("CRC does not match", 4);
}

TEST_F(SpoolCorruptionTest, CutHeaderIsDetected) {
  const std::string path = WriteFive();
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f.write("\x05\x00\x00", 3);  // three bytes of a header that never finished
  f.close();
  ExpectReplayed("header is cut short", 5);
}

// A record whose CRC holds but whose sequence number could never have been
// written (it would wrap the counter) is treated as corruption.
TEST_F(SpoolCorruptionTest, OutOfRangeSequenceIsCorrupt) {
  const std::string path = WriteFive();
  std::string body;
  body.push_back(2);                                   // an ack record
  for (int i = 0; i < 8; ++i) body.push_back('\xff');  // sequence 2^64-1
  std::string record;
  for (uint32_t v : {static_cast<uint32_t>(body.size()), Crc32c(body)}) {
    for (int i = 0; i < 4; ++i)
      record.push_back(static_cast<char>(v >> (8 * i)));
  }
  record += body;
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f.write(record.data(), record.size());
  f.close();
  ExpectReplayed("sequence number 18446744073709551615 is out of range", 5);
}

// A segment file named for a sequence near 2^64 would make the next message's
// sequence wrap; it is ignored with a warning, left in place, and the spool
// goes on numbering from its real segments.
TEST_F(SpoolCorruptionTest, SegmentNamedPastTheSequenceRangeIsIgnored) {
  const std::string path = WriteFive();
  const std::string bogus = Options().dir + "/seg-18446744073709551615.log";
  {
    std::ifstream in(path, std::ios::binary);
    std::ofstream out(bogus, std::ios::binary);
    out << in.rdbuf();
  }
  ::testing::internal::CaptureStderr();
  auto spool = OpenSpool(Options());
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(spool, nullptr);
  EXPECT_NE(err.find("seg-18446744073709551615.log: not a segment name"),
            std::string::npos)
      << err;
  EXPECT_EQ(spool->stats().replayed, 5u);
  ASSERT_TRUE(spool->Append("topic", "message-6", nullptr).ok());
  spool->Flush();
  std::vector<Message> ready = spool->TakeReady(100, 1 << 20);
  ASSERT_EQ(ready.size(), 6u);
  for (size_t i = 0; i < ready.size(); ++i) {
    EXPECT_EQ(ready[i].spool_sequence, i + 1);
  }
  struct stat st;
  EXPECT_EQ(stat(bogus.c_str(), &st), 0) << "the odd file was removed";
}

TEST_F(SpoolTest, ConcurrentAppendsAllCommitted) {
  auto spool = OpenSpool(Options());
  Outcomes outcomes;
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        ASSERT_TRUE(spool->Append("t", "payload", outcomes.Add()).ok());
      }
    });
  }
  for (auto& t : producers) t.join();
  spool->Flush();
  EXPECT_EQ(outcomes.size(), 2000u);
  EXPECT_TRUE(outcomes.AllOk());
  EXPECT_LT(spool->stats().syncs, 2000u);
  std::vector<Message> ready = spool->TakeReady(5000, 1 << 30);
  ASSERT_EQ(ready.size(), 2000u);
  for (size_t i = 1; i < ready.size(); ++i) {
    EXPECT_LT(ready[i - 1].spool_sequence, ready[i].spool_sequence);
  }
}

TEST_F(SpoolTest, RemovedDirectoryStartsOver) {
  auto spool = OpenSpool(Options());
  ASSERT_TRUE(spool->Append("t", "old claim", nullptr).ok());
  spool->Flush();
  ASSERT_EQ(system(("rm -rf " + tmp_.Join("cloud.d")).c_str()), 0);
  Outcomes outcomes;
  ASSERT_TRUE(spool->Append("t", "new claim", outcomes.Add()).ok());
  spool->Flush();
  EXPECT_TRUE(outcomes.AllOk());
  std::vector<Message> ready = spool->TakeReady(10, 1 << 20);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].payload, "new claim");
  spool.reset();
  auto reopened = OpenSpool(Options());
  EXPECT_EQ(reopened->stats().replayed, 1u);
  struct stat st;
  ASSERT_EQ(stat(tmp_.Join("cloud.d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // parents too: cloud.d holds keys
}

}  // namespace
}  // namespace cloudlink::publish

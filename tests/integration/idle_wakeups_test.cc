// An idle cloudlinkd does not wake: once no API connection is open for
// --api-idle-stop, gRPC stops and every one of its threads ends (its timer
// and callback-queue threads wake several times a second whatever the
// daemon does: bench/analysis.md), no thread of ours wakes, and the next
// connection is served by gRPC started again. While gRPC runs, the
// synchronous server's poller threads sleep through a window longer than
// gRPC's default 10 s poll timeout.
//
// Counted per thread from /proc/PID/task/TID/status (voluntary and
// involuntary context switches): a thread that sleeps through the window
// has the same count at both ends. The daemon is unclaimed, so the link
// thread does not run; bench/daemon_bench.py measures the online daemon.

#include <dirent.h>
#include <sys/types.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/testing/thread_switches.h"

namespace cloudlink::integration {
namespace {

struct ThreadSample {
  std::string name;  // /proc's comm: at most 15 characters
  long switches = 0;
};

// Every thread of `pid`, by thread id. Threads that end while being read
// are left out.
std::map<std::string, ThreadSample> SampleThreads(pid_t pid) {
  std::map<std::string, ThreadSample> threads;
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(task_dir.c_str());
  if (dir == nullptr) return threads;
  while (dirent* entry = readdir(dir)) {
    const std::string tid = entry->d_name;
    if (tid == "." || tid == "..") continue;
    std::ifstream status(absl::StrCat(task_dir, "/", tid, "/status"));
    ThreadSample sample;
    bool complete = false;
    std::string line;
    while (std::getline(status, line)) {
      absl::string_view rest = line;
      if (absl::ConsumePrefix(&rest, "Name:")) {
        sample.name = std::string(absl::StripAsciiWhitespace(rest));
      } else if (absl::ConsumePrefix(&rest, "voluntary_ctxt_switches:") ||
                 absl::ConsumePrefix(&rest, "nonvoluntary_ctxt_switches:")) {
        long n = 0;
        if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &n)) {
          sample.switches += n;
          complete = absl::StartsWith(line, "nonvoluntary");
        }
      }
    }
    if (complete) threads[tid] = sample;
  }
  closedir(dir);
  return threads;
}

struct Wakeups {
  int threads = 0;    // present at both ends of the window
  long switches = 0;  // theirs, over the window
};

// The wake-ups, between `before` and `after`, of the threads whose name
// starts with `prefix`.
Wakeups WakeupsOf(const std::map<std::string, ThreadSample>& before,
                  const std::map<std::string, ThreadSample>& after,
                  absl::string_view prefix) {
  Wakeups w;
  for (const auto& [tid, end] : after) {
    auto start = before.find(tid);
    if (start == before.end() || !absl::StartsWith(end.name, prefix)) {
      continue;
    }
    ++w.threads;
    w.switches += end.switches - start->second.switches;
  }
  return w;
}

TEST(IdleWakeupsTest, WithNoConnectionGrpcStopsAndNoThreadWakes) {
  CloudlinkdOptions options;
  options.extra_args = {"--api-idle-stop=1s"};
  absl::StatusOr<std::unique_ptr<CloudlinkdProcess>> daemon =
      CloudlinkdProcess::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  ASSERT_TRUE((*daemon)->State().ok());
  const pid_t pid = (*daemon)->process()->pid();
  ASSERT_GE(testing::GrpcThreads(pid), 1) << "no gRPC thread found";

  // gRPC stops between 1 and 1.5 s after the call's connection closed.
  const absl::Time limit = absl::Now() + absl::Seconds(20);
  while (testing::GrpcThreads(pid) > 0 && absl::Now() < limit) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(testing::GrpcThreads(pid), 0)
      << "gRPC's threads still run 20 s after the last connection";

  const absl::Duration window = absl::Seconds(5);
  const std::map<std::string, ThreadSample> before = SampleThreads(pid);
  absl::SleepFor(window);  // the measured interval, not a synchronisation
  const std::map<std::string, ThreadSample> after = SampleThreads(pid);
  const Wakeups all = WakeupsOf(before, after, "");
  EXPECT_EQ(all.threads, static_cast<int>(after.size()))
      << "threads came or went in an idle window";
  EXPECT_LE(all.switches, 1) << all.threads << " threads woke " << all.switches
                             << " times in " << absl::FormatDuration(window);

  // The next connections are served by gRPC started again: a unary call,
  // and the two streams served with the callback API, whose methods are
  // registered again on the new server. An empty topic is answered by the
  // Publish stream's own ack (TOPIC_UNKNOWN); watch-state prints the
  // current state, then streams until its --timeout.
  ASSERT_TRUE((*daemon)->State().ok());
  CtlInput line;
  line.stdin_text = "{\"id\":1,\"topic\":\"\",\"payload\":\"aGk=\"}\n";
  const testing::RunResult publish = (*daemon)->Ctl({"publish"}, line);
  EXPECT_EQ(publish.exit_code, 5) << publish.err;
  EXPECT_TRUE(absl::StrContains(publish.err, "TOPIC_UNKNOWN")) << publish.err;
  const testing::RunResult watch =
      (*daemon)->Ctl({"--json", "--timeout", "2", "watch-state"});
  EXPECT_TRUE(absl::StrContains(watch.out, "\"machine_guid\"")) << watch.err;
  ASSERT_TRUE((*daemon)->Stop().ok());
}

TEST(IdleWakeupsTest, SyncPollersAndOurThreadsSleepThroughAnIdleWindow) {
  CloudlinkdOptions options;
  options.extra_args = {"--api-idle-stop=0"};  // gRPC keeps running
  absl::StatusOr<std::unique_ptr<CloudlinkdProcess>> daemon =
      CloudlinkdProcess::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  // A synchronous call (GetState): the poller that takes it, and the one
  // gRPC starts in its place, wait again from here.
  ASSERT_TRUE((*daemon)->State().ok());
  const pid_t pid = (*daemon)->process()->pid();

  // Longer than gRPC's default poll timeout (10 s), with a margin: with it
  // every poller would wake at least once in the window.
  const absl::Duration window = absl::Seconds(11);
  const std::map<std::string, ThreadSample> before = SampleThreads(pid);
  absl::SleepFor(window);  // the measured interval, not a synchronisation
  const std::map<std::string, ThreadSample> after = SampleThreads(pid);

  // gRPC names them "grpcpp_sync_server", cut to 15 characters by /proc.
  const Wakeups pollers = WakeupsOf(before, after, "grpcpp_sync_ser");
  ASSERT_GE(pollers.threads, 1) << "no synchronous-server poller found";
  // Fewer wake-ups than pollers: with the 10 s timeout each poller would
  // wake at least once; with ApiServer's 60 s none of them is due yet. The
  // slack allows a stray wake-up of all but one poller.
  EXPECT_LT(pollers.switches, pollers.threads)
      << pollers.threads << " pollers woke " << pollers.switches << " times in "
      << absl::FormatDuration(window);

  // Our own threads carry the process's name (std::thread names none).
  const Wakeups ours = WakeupsOf(before, after, "cloudlinkd");
  ASSERT_GE(ours.threads, 1);
  EXPECT_LE(ours.switches, 1)
      << ours.threads << " threads of ours woke " << ours.switches
      << " times in " << absl::FormatDuration(window);

  ASSERT_TRUE((*daemon)->Stop().ok());
}

}  // namespace
}  // namespace cloudlink::integration

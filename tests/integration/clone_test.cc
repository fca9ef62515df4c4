// Cloned machines end to end: two cloudlinkd with identical lib dirs (one
// claim id; separate sockets, locks and directories, as on two machines)
// against the dev cloud. mosquitto 2.0 over WebSocket closes the
// taken-over connection without the DISCONNECT 0x8E, so this exercises the
// abrupt-close signal of server/link/takeover_guard.h: both daemons must
// report SESSION_TAKEN_OVER and then back off instead of fighting.
//
// The guard's parameters are shortened (--test-takeover-guard) so that the
// test takes well under a minute: 3 takeovers within 60 s, sessions under
// 20 s, waits of 10 s doubling up to 20 s.

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

constexpr char kGuardFlag[] = "--test-takeover-guard=3,60s,20s,10s,20s";
constexpr absl::Duration kMinDelay = absl::Seconds(10);
constexpr char kConnecting[] = " DEBUG LINK: connecting to wss://";
constexpr char kTakenOver[] = "another node uses this claim id";

// Copies `from` into `to` (replacing files), all but the instance lock: the
// lib dir as a disk image would carry it onto a clone.
void CopyLibDir(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  for (const fs::directory_entry& entry : fs::directory_iterator(from)) {
    if (entry.path().filename() == "cloudlinkd.lock") continue;
    fs::copy(
        entry.path(), fs::path(to) / entry.path().filename(),
        fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
}

// The times of the log lines of `log` that contain `text` (their leading
// RFC 3339 timestamp).
std::vector<absl::Time> LineTimes(const std::string& log,
                                  const std::string& text) {
  std::vector<absl::Time> times;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, text)) continue;
    absl::Time t;
    std::string error;
    const std::string stamp(line.substr(0, line.find(' ')));
    if (absl::ParseTime(absl::RFC3339_full, stamp, &t, &error)) {
      times.push_back(t);
    }
  }
  return times;
}

class CloneTest : public LinkTestBase {};

TEST_F(CloneTest, ClonesReportSessionTakenOverAndBackOff) {
  CloudlinkdOptions options = TrustingOptions();
  options.log_level = "debug";
  options.extra_args = {kGuardFlag};
  CloudlinkdProcess* a = StartDaemon(options);
  ASSERT_NE(a, nullptr);
  const std::string claim_id = Claim(a, "");
  ASSERT_FALSE(claim_id.empty());
  WaitForStatus(a, "online");

  // The clone: another daemon on a copy of A's lib dir.
  CloudlinkdProcess* b = StartDaemon(options);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->Stop().ok());
  CopyLibDir(a->lib_dir(), b->lib_dir());
  ASSERT_TRUE(b->Restart(options).ok());
  ASSERT_EQ(b->ClaimedIdFile(), claim_id);

  // Both show the reason (each while it waits; the other one then holds
  // the session) within 60 s.
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(60);
  CloudlinkdProcess* daemons[] = {a, b};
  bool shown[] = {false, false};
  std::string reasons[2];
  while (!(shown[0] && shown[1]) && absl::Now() < deadline) {
    for (int i = 0; i < 2; ++i) {
      if (shown[i]) continue;
      absl::StatusOr<nlohmann::json> state = daemons[i]->State();
      if (!state.ok()) continue;
      const std::string reason = state->value("reason", "");
      if (absl::StartsWith(reason, "SESSION_TAKEN_OVER:")) {
        shown[i] = true;
        reasons[i] = reason;
      }
    }
    absl::SleepFor(absl::Milliseconds(200));  // a poll interval
  }
  ASSERT_TRUE(shown[0]) << Diagnostics(a);
  ASSERT_TRUE(shown[1]) << Diagnostics(b);
  for (const std::string& reason : reasons) {
    EXPECT_TRUE(absl::StrContains(reason, kTakenOver)) << reason;
    EXPECT_TRUE(absl::StrContains(reason, claim_id)) << reason;
    EXPECT_TRUE(absl::StrContains(reason, "reclaim --new-identity")) << reason;
  }

  // Afterwards: at most one connection attempt per 10 s on each. Watch
  // long enough for each to try at least once more.
  absl::SleepFor(2 * kMinDelay + absl::Seconds(3));  // the window, not a sync
  for (CloudlinkdProcess* daemon : daemons) {
    const std::string log = daemon->Stderr();
    const std::vector<absl::Time> reported = LineTimes(log, kTakenOver);
    ASSERT_FALSE(reported.empty()) << Diagnostics(daemon);
    std::vector<absl::Time> attempts;
    for (absl::Time t : LineTimes(log, kConnecting)) {
      if (t > reported.front()) attempts.push_back(t);
    }
    EXPECT_GE(attempts.size(), 1u) << Diagnostics(daemon);
    EXPECT_GE(attempts.front() - reported.front(),
              kMinDelay - absl::Milliseconds(100))
        << Diagnostics(daemon);
    for (size_t i = 1; i < attempts.size(); ++i) {
      EXPECT_GE(attempts[i] - attempts[i - 1],
                kMinDelay - absl::Milliseconds(100))
          << "attempt " << i << "\n"
          << Diagnostics(daemon);
    }
  }
}

}  // namespace
}  // namespace cloudlink::integration

// The WatchState thread's wake-ups (streams themselves are covered by the
// daemon and cloudlinkctl integration tests).

#include "server/api/state_watchers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "server/node/node_controller.h"
#include "server/state/file_system.h"
#include "tests/server/claim/scripted_http_client.h"
#include "tests/server/link/fake_wss_connector.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

// With no stream open the thread follows nothing: state changes (here
// reloads of a malformed claim.conf whose error moves between lines) wake it
// not once, and Shutdown still ends it at once.
TEST(StateWatchersTest, WithNoStreamTheThreadSleepsThroughChanges) {
  testing::TempDir tmp;
  const std::string etc = tmp.Join("etc");
  mkdir(etc.c_str(), 0755);
  node::NodeOptions options;
  options.config_dir = etc;
  options.lib_dir = tmp.Join("lib");
  options.hostname = "node-1";
  options.claimer.pause = [](absl::Duration) {};
  state::PosixFileSystem fs;
  testing::ScriptedHttpClient http;
  http.AnswerAlways("/api/v1/env",
                    Error(absl::StatusCode::kUnavailable,
                          reason::kConnectFailed, "no cloud in this test"));
  testing::FakeClock wss_clock;
  testing::FakeWssConnector wss(&wss_clock);
  node::NodeController node(options, &fs, &http, &wss);
  node.Start();

  auto watchers = std::make_unique<StateWatchers>(&node);
  uint64_t version = node.GetState().second;
  const uint64_t first = version;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(testing::WriteFile(etc + "/claim.conf",
                                   i % 2 == 0 ? "[global]\n  tokn = x\n"
                                              : "[global]\n\n  tokn = x\n")
                    .ok());
    node.ReloadClaimingState(absl::ZeroDuration());
    version = node.WaitForStateChange(version, absl::Milliseconds(1)).second;
  }
  ASSERT_GT(version, first);  // the state did change
  EXPECT_EQ(watchers->wakeups(), 0u);
  EXPECT_EQ(watchers->size(), 0u);

  const MonotonicTime start = RealClock()->MonotonicNow();
  watchers.reset();  // Shutdown, then joins the thread
  EXPECT_LT(RealClock()->MonotonicNow() - start, absl::Milliseconds(400));
}

}  // namespace
}  // namespace cloudlink::api

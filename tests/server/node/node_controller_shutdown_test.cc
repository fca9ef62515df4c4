// Destroying a NodeController while its link thread is inside a slow HTTPS
// call: the destructor waits for that call (the link thread reports into the
// controller's members when it returns) and then finishes, neither hanging
// nor touching destroyed members (run under ASan/TSan to see the latter).

#include <memory>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/notification.h"
#include "server/config/cloud_conf.h"
#include "server/node/node_controller.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "tests/server/cloud/fake_cloud_http.h"
#include "tests/server/link/fake_wss_connector.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::node {
namespace {

using ::cloudlink::testing::FakeCloudHttp;
using ::cloudlink::testing::TempDir;

constexpr char kClaimId[] = "0b4f5e4c-8e33-4a41-9a2b-6f0a1d2c3b4e";
constexpr char kGuid[] = "5a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";

TEST(NodeControllerShutdownTest, DestroyWhileASlowCloudHoldsARequest) {
  TempDir tmp;
  state::PosixFileSystem fs;
  state::StateDir dir(tmp.Join("lib"), &fs);
  config::CloudConf conf;
  conf.url = "https://cloud.example";
  conf.proxy = "none";
  conf.token = "claim-token-c2xvdy1jbG91ZA";
  conf.machine_guid = kGuid;
  conf.claimed_id = kClaimId;
  conf.hostname = "node-1";
  ASSERT_TRUE(dir.WriteClaim(conf).ok());
  ASSERT_TRUE(fs.WriteFileAtomic(dir.PrivateKeyPath(),
                                 FakeCloudHttp::NodeKeyPem(), 0600)
                  .ok());

  FakeCloudHttp http;
  testing::FakeClock wss_clock;
  testing::FakeWssConnector wss(&wss_clock);
  NodeOptions options;
  options.config_dir = tmp.Join("etc");
  options.lib_dir = tmp.Join("lib");
  options.hostname = "node-1";
  auto node = std::make_unique<NodeController>(options, &fs, &http, &wss);

  http.HoldNext("/api/v1/env");
  node->Start();
  ASSERT_TRUE(http.WaitHeld(absl::Seconds(10)));

  Notification destroyed;
  std::thread destroyer([&] {
    node.reset();
    destroyed.Notify();
  });
  // Stop() gives up on the link after 5 s; the destructor still must not
  // return while the link thread is inside the call (it reports into the
  // controller when the call returns).
  EXPECT_FALSE(destroyed.WaitForNotificationWithTimeout(absl::Seconds(6)));
  http.Release();
  const bool done = destroyed.WaitForNotificationWithTimeout(absl::Seconds(20));
  EXPECT_TRUE(done) << "the destructor hung after the cloud answered";
  if (!done) destroyed.WaitForNotification();  // never leave it running
  destroyer.join();
}

}  // namespace
}  // namespace cloudlink::node

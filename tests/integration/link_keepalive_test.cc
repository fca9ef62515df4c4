// MQTT keepalive against the real broker while the clocks move (fault
// injection: clock jumps). The dev cloud's mosquitto runs
// with max_keepalive 10, so it tells the node a Server Keep Alive of 10 s
// and drops a session that stays silent for 15 s; the node must ping every
// 7.5 s.
//
// The node's identity comes from a real claim by cloudlinkd, which is then
// stopped; the link runs in this process behind the clock seam.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/http/curl_http_client.h"
#include "server/link/cloud_link.h"
#include "server/transport/lws_wss_connection.h"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

// mosquitto refuses a max_keepalive below 10 s.
constexpr int kServerKeepAliveSeconds = 10;

// Real time, shifted by offsets a test can step: wall time as an NTP step
// or `date -s` moves it; monotonic time only to show what a clock that went
// backwards would do (CLOCK_MONOTONIC never does).
class SteppingClock : public Clock {
 public:
  absl::Time WallNow() override {
    MutexLock lock(&mu_);
    return absl::Now() + wall_offset_;
  }
  MonotonicTime MonotonicNow() override {
    MutexLock lock(&mu_);
    return RealClock()->MonotonicNow() + monotonic_offset_;
  }
  void StepWall(absl::Duration by) {
    MutexLock lock(&mu_);
    wall_offset_ += by;
  }
  void StepMonotonic(absl::Duration by) {
    MutexLock lock(&mu_);
    monotonic_offset_ += by;
  }

 private:
  Mutex mu_;
  absl::Duration wall_offset_ ABSL_GUARDED_BY(mu_);
  absl::Duration monotonic_offset_ ABSL_GUARDED_BY(mu_);
};

class LinkKeepaliveTest : public LinkTestBase {
 protected:
  LinkKeepaliveTest() {
    broker_max_keepalive_seconds_ = kServerKeepAliveSeconds;
  }

  // Claims with cloudlinkd, waits until it is online, stops it, and returns
  // the link configuration of that identity ("" claim id on failure).
  link::LinkConfig ClaimedIdentity() {
    link::LinkConfig config;
    CloudlinkdProcess* daemon = StartDaemon();
    if (daemon == nullptr) return config;
    const std::string claim_id = Claim(daemon, "none");
    if (claim_id.empty()) return config;
    WaitForStatus(daemon, "online");
    absl::StatusOr<int> stopped = daemon->Stop();
    EXPECT_TRUE(stopped.ok()) << stopped.status();
    config.url = cloud_->url();
    config.claim_id = claim_id;
    config.machine_guid =
        std::string(absl::StripAsciiWhitespace(daemon->MachineGuidFile()));
    config.hostname = "keepalive-test";
    config.proxy = "none";
    config.ca_file = cloud_->ca_path();
    config.private_key_pem =
        testing::ReadFileOrEmpty(daemon->lib_dir() + "/cloud.d/private.pem");
    EXPECT_FALSE(config.private_key_pem.empty());
    return config;
  }

  // Whether mosquitto's log shows it cut the node's connection: for a
  // WebSocket client whose keepalive ran out, mosquitto 2.0 logs "Client ID
  // closed its connection." (a node that leaves logs "... disconnected.").
  bool BrokerDropped(const std::string& claim_id) const {
    const std::string log =
        testing::ReadFileOrEmpty(cloud_->dir() + "/mosquitto.log");
    return log.find(
               absl::StrCat("Client ", claim_id, " closed its connection.")) !=
           std::string::npos;
  }

  // Claims (ClaimedIdentity) and runs that identity's link in this process
  // on `clock_` until it is online; nullptr with a test failure otherwise.
  link::CloudLink* StartOnlineLink() {
    config_ = ClaimedIdentity();
    if (config_.claim_id.empty()) return nullptr;
    link_ = std::make_unique<link::CloudLink>(&http_, &wss_, &clock_,
                                              [](const link::LinkStatus&) {});
    link_->Start(config_);
    // Online, and the start-up exchange over: the node instance is announced
    // (the node id is reported after UpdateNodeInstanceConnection is sent),
    // so nothing but keepalive traffic follows.
    const bool online = testing::WaitFor(
        [&] {
          const link::LinkStatus status = link_->status();
          return status.online && !status.node_id.empty();
        },
        kOnlineWait);
    EXPECT_TRUE(online) << link_->status().reason;
    return online ? link_.get() : nullptr;
  }
  void TearDown() override {
    if (link_ != nullptr) link_->Stop();
    link_.reset();
    LinkTestBase::TearDown();
  }

  // Whether, within `period`, the session is lost (offline, or a second
  // connection). Holding on for the whole period returns false.
  static bool SessionLostWithin(const link::CloudLink& link,
                                absl::Duration period) {
    return testing::WaitFor(
        [&] {
          const link::LinkStatus status = link.status();
          return !status.online || status.connections != 1;
        },
        period);
  }

  SteppingClock clock_;
  http::CurlHttpClient http_;
  transport::LwsWssConnector wss_;
  link::LinkConfig config_;
  std::unique_ptr<link::CloudLink> link_;
};

// The wall clock steps an hour forward and then two hours back while the
// session is up: keepalive runs on the monotonic clock, so the node goes on
// pinging and mosquitto never drops it (each period is longer than the
// broker's 1.5 x Server Keep Alive, 15 s).
TEST_F(LinkKeepaliveTest, WallClockStepsLeaveTheKeepaliveAlone) {
  link::CloudLink* link = StartOnlineLink();
  ASSERT_NE(link, nullptr);

  // Longer than the broker's 1.5 x Server Keep Alive.
  const absl::Duration period =
      absl::Seconds(kServerKeepAliveSeconds * 3 / 2 + 2);
  clock_.StepWall(absl::Hours(1));
  EXPECT_FALSE(SessionLostWithin(*link, period)) << "wall clock +1 h";
  clock_.StepWall(-absl::Hours(2));
  EXPECT_FALSE(SessionLostWithin(*link, period)) << "wall clock -1 h";

  const link::LinkStatus status = link->status();
  EXPECT_TRUE(status.online) << status.reason;
  EXPECT_EQ(status.connections, 1u);
  EXPECT_FALSE(BrokerDropped(config_.claim_id))
      << "mosquitto dropped the node for silence";
}

// The control that shows the test above can fail: were keepalive measured
// on a clock that steps back an hour, the node would stop pinging and
// mosquitto would drop the session within 1.5 x 10 s (the node then
// reconnects). CLOCK_MONOTONIC never steps back; the wall clock does.
TEST_F(LinkKeepaliveTest, AClockSteppingBackStopsThePingsAndTheBrokerNotices) {
  link::CloudLink* link = StartOnlineLink();
  ASSERT_NE(link, nullptr);

  clock_.StepMonotonic(-absl::Hours(1));
  EXPECT_TRUE(SessionLostWithin(*link, absl::Seconds(30)))
      << "mosquitto kept a silent session: is max_keepalive in effect?";
  EXPECT_TRUE(testing::WaitFor([&] { return BrokerDropped(config_.claim_id); },
                               absl::Seconds(5)));
}

}  // namespace
}  // namespace cloudlink::integration

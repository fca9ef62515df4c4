#pragma once

// Shared fixture of the publish integration tests (publish_loss_test.cc,
// publish_link_test.cc): the real dev cloud, a cloudlinkd claimed through
// claim.conf and online, an independent subscriber (publish_clients.h), and
// a broker restart that cannot lose messages to a subscriber that is not
// back yet. Not thread-safe: one test thread.

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/integration/publish_clients.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {

class PublishTestBase : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  void SetUp() override {
    auto cloud = DevCloud::Start(tmp_.Join("cloud"));
    ASSERT_TRUE(cloud.ok()) << cloud.status();
    cloud_ = *std::move(cloud);
    CloudlinkdOptions options;
    options.cloud_ca = cloud_->ca_path();
    options.claim_conf =
        absl::StrCat("[global]\n    url = ", cloud_->url(),
                     "\n    token = ", cloud_->Env("CLAIM_TOKEN"),
                     "\n    rooms = ", cloud_->Env("ROOMS"), "\n");
    auto daemon = CloudlinkdProcess::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    options_ = options;
    ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
    claim_id_ = daemon_->ClaimedIdFile();
    ASSERT_FALSE(claim_id_.empty());
  }

  bool WaitOnline(absl::Duration timeout) {
    absl::StatusOr<json> state = daemon_->WaitForState(
        [](const json& s) { return s.value("online", false); }, timeout);
    EXPECT_TRUE(state.ok() && state->value("online", false))
        << (state.ok() ? state->dump() : state.status().ToString()) << "\n"
        << daemon_->Stderr();
    return state.ok() && state->value("online", false);
  }

  std::unique_ptr<Subscriber> StartSubscriber(const std::string& tag,
                                              size_t expected) {
    auto subscriber = std::make_unique<Subscriber>(tag, expected);
    int port = 0;
    EXPECT_TRUE(absl::SimpleAtoi(cloud_->Env("BROKER_PLAIN_PORT"), &port));
    EXPECT_FALSE(cloud_->Env("BROKER_ADMIN_PASSWORD").empty());
    EXPECT_TRUE(subscriber->Start(port, cloud_->Env("BROKER_ADMIN_USER"),
                                  cloud_->Env("BROKER_ADMIN_PASSWORD"),
                                  claim_id_));
    EXPECT_TRUE(subscriber->WaitSubscribedMoreThan(0, absl::Seconds(10)));
    return subscriber;
  }

  // Stops and restarts the broker. cloudlinkd is kept from logging in
  // again (login errors) until the subscriber is back, so nothing is
  // published to a broker nobody listens on; then asked to connect now.
  void BounceBroker(Subscriber* subscriber) {
    const int subscribed = subscriber->subscriptions();
    ASSERT_TRUE(
        cloud_->ArmLoginError({{"count", 1000000}, {"status", 503}}).ok());
    ASSERT_TRUE(cloud_->StopBroker().ok());
    ASSERT_TRUE(daemon_
                    ->WaitForState(
                        [](const json& s) { return !s.value("online", true); },
                        absl::Seconds(30))
                    .ok());
    ASSERT_TRUE(cloud_->StartBroker().ok());
    ASSERT_TRUE(
        subscriber->WaitSubscribedMoreThan(subscribed, absl::Seconds(30)));
    ASSERT_TRUE(cloud_->ClearFaults().ok());
    testing::RunResult reload = daemon_->Ctl({"reload-claiming-state"});
    EXPECT_EQ(reload.exit_code, 0) << reload.err;
    ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
  }

  // The newest spool segment holding data ("" when none).
  std::string LastSegment() {
    const std::string dir = daemon_->lib_dir() + "/cloud.d/spool";
    std::string last;
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (struct dirent* entry = readdir(d)) {
        if (absl::StartsWith(entry->d_name, "seg-")) {
          names.push_back(entry->d_name);
        }
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      struct stat st;
      const std::string path = dir + "/" + name;
      if (stat(path.c_str(), &st) == 0 && st.st_size > 0) last = path;
    }
    return last;
  }

  testing::TempDir tmp_;
  std::unique_ptr<DevCloud> cloud_;
  std::unique_ptr<CloudlinkdProcess> daemon_;
  CloudlinkdOptions options_;
  std::string claim_id_;
};

}  // namespace cloudlink::integration

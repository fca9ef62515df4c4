#pragma once

// The base of the dev cloud's end-to-end tests: for each test, the real dev
// cloud (the shared DevCloud fixture) on a fresh temporary directory.

#include <memory>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/testing/test_env.h"

namespace cloudlink::devcloud_testing {

class DevCloudTestBase : public ::testing::Test {
 protected:
  void SetUp() override { StartCloud(); }

  // (Re)starts the dev cloud on dir_; after a Stop() it finds the state it
  // left there.
  void StartCloud() {
    absl::StatusOr<std::unique_ptr<integration::DevCloud>> cloud =
        integration::DevCloud::Start(dir_.path());
    ASSERT_TRUE(cloud.ok()) << cloud.status();
    cloud_ = *std::move(cloud);
  }

  testing::TempDir dir_;
  std::unique_ptr<integration::DevCloud> cloud_;
};

}  // namespace cloudlink::devcloud_testing

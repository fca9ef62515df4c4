// Reclaim drops the old claim's messages, end to end (real dev cloud,
// cloudlinkd, a Publish stream): a node claimed into Space B goes offline
// with three DURABLE messages spooled and two AT_LEAST_ONCE ones queued,
// then `reclaim --new-identity` moves it into Space A. Space A receives none
// of them, the queued ones' producer gets ABORTED RECLAIMED acks, the spool
// starts empty and the daemon holds no descriptor of a deleted segment.

#include <dirent.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"
#include "tests/integration/publish_clients.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class ReclaimMessagesTest : public LinkTestBase {
 protected:
  // Messages the dev cloud saw from `claim_id` on node-instance-info.
  int NodeInfoMessages(const std::string& claim_id) {
    absl::StatusOr<json> messages = cloud_->NodeMessages(claim_id);
    EXPECT_TRUE(messages.ok()) << messages.status();
    int n = 0;
    if (messages.ok() && messages->is_array()) {
      for (const json& m : *messages) {
        n += absl::EndsWith(m.value("topic", ""), "/UpdateNodeInfo");
      }
    }
    return n;
  }

  // Descriptors of `pid` that point to deleted files under `dir`.
  std::vector<std::string> DeletedOpenFiles(pid_t pid, const std::string& dir) {
    std::vector<std::string> found;
    const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* d = opendir(fd_dir.c_str());
    if (d == nullptr) return found;
    while (struct dirent* entry = readdir(d)) {
      char target[4096];
      const std::string link = fd_dir + "/" + entry->d_name;
      const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      const std::string path(target, static_cast<size_t>(n));
      if (absl::StartsWith(path, dir) && absl::StrContains(path, "(deleted)")) {
        found.push_back(path);
      }
    }
    closedir(d);
    return found;
  }
};

TEST_F(ReclaimMessagesTest, ReclaimFailsAndDropsTheOldClaimsMessages) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const testing::RunResult claimed = daemon->Ctl(
      {"--json", "claim", "--token", cloud_->Env("CLAIM_TOKEN_B"), "--rooms",
       cloud_->Env("ROOMS_B"), "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(claimed.exit_code, 0) << claimed.out << claimed.err;
  const std::string old_id =
      WaitForStatus(daemon, "online").value("claimed_id", "");
  ASSERT_FALSE(old_id.empty());

  // Offline, and kept so: the broker goes away and logins fail.
  ASSERT_TRUE(
      cloud_->ArmLoginError({{"count", 1000000}, {"status", 503}}).ok());
  ASSERT_TRUE(cloud_->StopBroker().ok());
  WaitForStatus(daemon, "offline");
  ASSERT_TRUE(cloud_->StartBroker().ok());

  PublishStream stream(daemon->socket_path(), "old");
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_TRUE(stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_DURABLE));
  }
  for (uint64_t seq = 4; seq <= 5; ++seq) {
    ASSERT_TRUE(stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE));
  }
  // The durable ones are acked at their fsync; all five wait for the link.
  ASSERT_TRUE(
      testing::WaitFor([&] { return stream.acked() == 3; }, absl::Seconds(10)));
  absl::StatusOr<json> before = daemon->WaitForState(
      [](const json& s) {
        return s["publish"].value("spooled", "") == "3" &&
               s["publish"].value("queued", "") == "2";
      },
      absl::Seconds(10));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ((*before)["publish"].value("spooled", ""), "3") << before->dump(2);
  ASSERT_TRUE(cloud_->ClearFaults().ok());

  const testing::RunResult reclaimed =
      daemon->Ctl({"--json", "reclaim", "--new-identity", "--token",
                   cloud_->Env("CLAIM_TOKEN"), "--rooms", cloud_->Env("ROOMS"),
                   "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(reclaimed.exit_code, 0) << reclaimed.out << reclaimed.err;
  const std::string new_id =
      json::parse(reclaimed.out, nullptr, false).value("claimed_id", "");
  ASSERT_FALSE(new_id.empty()) << reclaimed.out;
  const json online = WaitForStatus(daemon, "online");
  EXPECT_EQ(online.value("claimed_id", ""), new_id);

  // The queued ones come back ABORTED RECLAIMED.
  ASSERT_TRUE(testing::WaitFor([&] { return stream.failures().size() == 2; },
                               absl::Seconds(10)))
      << stream.first_error();
  for (const auto& [id, failure] : stream.failures()) {
    EXPECT_GE(id, 4u);
    EXPECT_THAT(failure, HasSubstr("RECLAIMED")) << failure;
    EXPECT_TRUE(absl::StartsWith(failure, "10 ")) << failure;  // ABORTED
  }

  // A marker published now is acked only after anything older the link
  // would have sent (the spool goes first): when it is, Space A has seen the
  // marker alone.
  PublishStream marker(daemon->socket_path(), "new");
  ASSERT_TRUE(marker.Send(1, cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE));
  ASSERT_TRUE(
      testing::WaitFor([&] { return marker.acked() == 1; }, absl::Seconds(20)))
      << marker.first_error();
  ASSERT_TRUE(testing::WaitFor([&] { return NodeInfoMessages(new_id) >= 1; },
                               absl::Seconds(10)));
  EXPECT_EQ(NodeInfoMessages(new_id), 1);
  EXPECT_EQ(NodeInfoMessages(old_id), 0);

  const json after = *daemon->State();
  EXPECT_EQ(after["publish"].value("spooled", ""), "0") << after.dump(2);
  EXPECT_THAT(DeletedOpenFiles(daemon->process()->pid(), daemon->lib_dir()),
              ::testing::IsEmpty());
  EXPECT_THAT(daemon->Stderr(), HasSubstr("messages of the old claim"));
}

}  // namespace
}  // namespace cloudlink::integration

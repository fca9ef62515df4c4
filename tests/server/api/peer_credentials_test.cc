#include "server/api/peer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "gtest/gtest.h"

namespace cloudlink::api {
namespace {

TEST(PeerCredentialsTest, ReadsTheConnectedProcess) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  absl::StatusOr<UnixCredentials> peer = ReadPeerCredentials(fds[0]);
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->pid, getpid());
  EXPECT_EQ(peer->uid, geteuid());
  EXPECT_EQ(peer->gid, getegid());
  EXPECT_TRUE(peer->InGroup(getegid()));
}

TEST(PeerCredentialsTest, FailsOnANonSocket) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_FALSE(ReadPeerCredentials(fds[0]).ok());
  close(fds[0]);
  close(fds[1]);
}

TEST(PeerCredentialsTest, InGroupLooksAtGidAndAccountGroups) {
  UnixCredentials caller;
  caller.gid = 10;
  caller.groups = {10, 20};
  EXPECT_TRUE(caller.InGroup(10));
  EXPECT_TRUE(caller.InGroup(20));
  EXPECT_FALSE(caller.InGroup(30));
}

TEST(PeerCredentialsTest, AccountGroups) {
  // uid 0 is root on every system; its account lists its primary group 0.
  std::vector<gid_t> root = AccountGroups(0, 12345);
  EXPECT_NE(std::find(root.begin(), root.end(), 12345u), root.end());
  EXPECT_NE(std::find(root.begin(), root.end(), 0u), root.end());
  // A uid without an account has only the gid it runs with.
  EXPECT_EQ(AccountGroups(4000000, 777), std::vector<gid_t>{777});
}

TEST(PeerCredentialsTest, GroupLookups) {
  EXPECT_EQ(GroupName(0), "root");
  EXPECT_EQ(GroupName(3999999), "3999999");
  absl::StatusOr<gid_t> root = GroupId("root");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, 0u);
  EXPECT_EQ(GroupId("no-such-group-cl").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cloudlink::api

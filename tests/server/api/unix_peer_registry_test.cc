#include "server/api/unix_peer_registry.h"

#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace cloudlink::api {
namespace {

UnixCredentials Credentials(uid_t uid) {
  UnixCredentials credentials;
  credentials.uid = uid;
  credentials.pid = 100 + uid;
  return credentials;
}

// A connected socket pair; closes what is still open.
struct Pair {
  Pair() { socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }
  ~Pair() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  int fds[2] = {-1, -1};
};

TEST(UnixPeerRegistryTest, FindsTheConnectionByItsPeerName) {
  UnixPeerRegistry registry;
  Pair pair;
  ASSERT_TRUE(registry.Register(pair.fds[0], Credentials(7)).ok());
  EXPECT_EQ(UnixPeerRegistry::PeerName(pair.fds[0]),
            "fd:" + std::to_string(pair.fds[0]));
  absl::StatusOr<UnixCredentials> found =
      registry.Lookup(UnixPeerRegistry::PeerName(pair.fds[0]));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->uid, 7u);
  EXPECT_EQ(found->pid, 107);
}

TEST(UnixPeerRegistryTest, OtherPeerNamesAreNotFound) {
  UnixPeerRegistry registry;
  for (const char* peer : {"ipv4:127.0.0.1:5000", "fd:", "fd:x", "fd:-1",
                           "unix:/run/x", "fd:999"}) {
    EXPECT_EQ(registry.Lookup(peer).status().code(),
              absl::StatusCode::kNotFound)
        << peer;
  }
}

TEST(UnixPeerRegistryTest, AnEndedConnectionIsNotFound) {
  UnixPeerRegistry registry;
  Pair pair;
  const int fd = pair.fds[0];
  ASSERT_TRUE(registry.Register(fd, Credentials(7)).ok());
  close(fd);
  pair.fds[0] = -1;
  EXPECT_EQ(registry.Lookup(UnixPeerRegistry::PeerName(fd)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(UnixPeerRegistryTest, AReusedNumberNeverYieldsTheOldCredentials) {
  UnixPeerRegistry registry;
  Pair old_pair;
  const int fd = old_pair.fds[0];
  ASSERT_TRUE(registry.Register(fd, Credentials(0)).ok());
  // The connection ends and another socket gets the same number before it
  // is registered (the window between accept and Register).
  Pair new_pair;
  ASSERT_EQ(dup2(new_pair.fds[0], fd), fd);
  EXPECT_FALSE(registry.Lookup(UnixPeerRegistry::PeerName(fd)).ok());
  ASSERT_TRUE(registry.Register(fd, Credentials(65534)).ok());
  absl::StatusOr<UnixCredentials> found =
      registry.Lookup(UnixPeerRegistry::PeerName(fd));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->uid, 65534u);
}

TEST(UnixPeerRegistryTest, RegisterDropsEndedConnections) {
  UnixPeerRegistry registry;
  Pair a;
  Pair b;
  ASSERT_TRUE(registry.Register(a.fds[0], Credentials(1)).ok());
  ASSERT_TRUE(registry.Register(a.fds[1], Credentials(2)).ok());
  EXPECT_EQ(registry.size(), 2u);
  close(a.fds[0]);
  a.fds[0] = -1;
  ASSERT_TRUE(registry.Register(b.fds[0], Credentials(3)).ok());
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_TRUE(registry.Lookup(UnixPeerRegistry::PeerName(a.fds[1])).ok());
}

TEST(UnixPeerRegistryTest, RegisterRefusesAClosedDescriptor) {
  UnixPeerRegistry registry;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  close(fds[0]);
  close(fds[1]);
  EXPECT_FALSE(registry.Register(fds[0], Credentials(1)).ok());
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
}  // namespace cloudlink::api

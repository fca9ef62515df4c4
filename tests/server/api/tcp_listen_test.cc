#include "server/api/tcp_listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloudlink::api {
namespace {

using ::testing::IsEmpty;
using ::testing::Not;

void CloseAll(const TcpListenSockets& sockets) {
  for (int fd : sockets.fds) close(fd);
}

TEST(ListenTcpTest, PortZeroBindsAFreePort) {
  absl::StatusOr<TcpListenSockets> sockets = ListenTcp("127.0.0.1:0", 8);
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  EXPECT_THAT(sockets->fds, Not(IsEmpty()));
  EXPECT_GT(sockets->port, 0);
  CloseAll(*sockets);
}

TEST(ListenTcpTest, BracketedIpv6Address) {
  absl::StatusOr<TcpListenSockets> sockets = ListenTcp("[::1]:0", 8);
  if (!sockets.ok()) GTEST_SKIP() << "no IPv6 loopback: " << sockets.status();
  EXPECT_GT(sockets->port, 0);
  CloseAll(*sockets);
}

TEST(ListenTcpTest, NoPortIsTheCause) {
  absl::StatusOr<TcpListenSockets> sockets = ListenTcp("127.0.0.1", 8);
  ASSERT_FALSE(sockets.ok());
  EXPECT_EQ(sockets.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sockets.status().message(), "no port");
}

TEST(ListenTcpTest, PortInUseFails) {
  absl::StatusOr<TcpListenSockets> first = ListenTcp("127.0.0.1:0", 8);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<TcpListenSockets> second =
      ListenTcp(absl::StrCat("127.0.0.1:", first->port), 8);
  EXPECT_FALSE(second.ok());
  if (second.ok()) CloseAll(*second);
  CloseAll(*first);
}

TEST(PeerAddressTest, NamesPeersAsGrpcDoes) {
  sockaddr_storage storage{};
  auto* in = reinterpret_cast<sockaddr_in*>(&storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(40112);
  inet_pton(AF_INET, "10.0.0.5", &in->sin_addr);
  std::string source;
  EXPECT_EQ(PeerAddress(storage, &source), "ipv4:10.0.0.5:40112");
  EXPECT_EQ(source, "10.0.0.5");

  sockaddr_storage storage6{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage6);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(7443);
  inet_pton(AF_INET6, "::1", &in6->sin6_addr);
  EXPECT_EQ(PeerAddress(storage6, &source), "ipv6:[::1]:7443");
  EXPECT_EQ(source, "::1");
}

}  // namespace
}  // namespace cloudlink::api

#include "server/transport/http_proxy_probe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/testing/loopback_port.h"

namespace cloudlink::transport {
namespace {

config::ProxyConfig ProxyAt(int port) {
  config::ProxyConfig proxy;
  proxy.kind = config::ProxyKind::kHttp;
  proxy.host = "127.0.0.1";
  proxy.port = port;
  proxy.username = "bob";
  proxy.password = "s3cret";
  return proxy;
}

// A one-shot proxy: reads the request head, answers `answer`, closes.
// Returns the request it read.
std::string ServeOnce(int listen_fd, const std::string& answer) {
  const int fd = accept(listen_fd, nullptr, nullptr);
  if (fd < 0) return "";
  std::string request;
  char buf[512];
  while (request.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  (void)!send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  close(fd);
  return request;
}

TEST(HttpProxyProbeTest, ReadsTheStatusOfTheSameConnect) {
  auto listener = testing::LoopbackListener::Open();
  ASSERT_TRUE(listener.ok()) << listener.status();
  std::string request;
  std::thread server([&] {
    request =
        ServeOnce((*listener)->fd(), "HTTP/1.0 403 Access violation\r\n\r\n");
  });
  absl::StatusOr<int> status = ProbeHttpConnectStatus(
      ProxyAt((*listener)->port()), "localhost", 8443, absl::Seconds(5));
  server.join();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 403);
  EXPECT_TRUE(absl::StartsWith(request, "CONNECT localhost:8443 HTTP/1.1\r\n"))
      << request;
  // bob:s3cret
  EXPECT_TRUE(
      absl::StrContains(request, "Proxy-Authorization: Basic Ym9iOnMzY3JldA=="))
      << request;
}

TEST(HttpProxyProbeTest, ASilentProxyIsBoundedAndNamesNoPassword) {
  auto listener = testing::LoopbackListener::Open();  // never accepts
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<int> status = ProbeHttpConnectStatus(
      ProxyAt((*listener)->port()), "localhost", 8443, absl::Milliseconds(300));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(ReasonOf(status.status()), "PROXY_FAILED");
  EXPECT_FALSE(absl::StrContains(status.status().message(), "s3cret"));
}

TEST(HttpProxyProbeTest, RefusalsByStatus) {
  EXPECT_EQ(ReasonOf(ProxyConnectRefusal(407, "h:1", "http://p:3128", "")),
            "PROXY_AUTH");
  EXPECT_EQ(ReasonOf(ProxyConnectRefusal(401, "h:1", "http://p:3128", "")),
            "PROXY_AUTH");
  EXPECT_EQ(ReasonOf(ProxyConnectRefusal(502, "h:1", "http://p:3128", "")),
            "PROXY_FAILED");
  const absl::Status refused =
      ProxyConnectRefusal(403, "h:1", "http://p:3128", "proxy not h1");
  EXPECT_EQ(ReasonOf(refused), "PROXY_REFUSED");
  EXPECT_EQ(std::string(refused.message()),
            "PROXY_REFUSED: the HTTP proxy http://p:3128 refused the CONNECT "
            "to h:1 with "
            "status 403; check the proxy's allow rules (the ports and hosts "
            "it may tunnel to) (proxy not h1)");
}

}  // namespace
}  // namespace cloudlink::transport

#include "server/socks5/socks5_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/error.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::socks5 {
namespace {

using ::cloudlink::testing::PickFreePort;
using ::cloudlink::testing::Subprocess;
using ::cloudlink::testing::SubprocessOptions;
using ::cloudlink::testing::WaitFor;

constexpr absl::Duration kWait = absl::Seconds(10);

// A loopback TCP server that echoes every connection's bytes back, on its own
// thread, until destroyed.
class EchoServer {
 public:
  EchoServer() {
    auto listener = ::cloudlink::testing::LoopbackListener::Open();
    if (!listener.ok() || pipe(stop_) != 0) abort();
    listener_ = *std::move(listener);
    thread_ = std::thread([this] { Run(); });
  }
  ~EchoServer() {
    (void)!write(stop_[1], "x", 1);
    thread_.join();
    close(stop_[0]);
    close(stop_[1]);
  }
  int port() const { return listener_->port(); }

 private:
  void Run() {
    int client = -1;
    while (true) {
      pollfd fds[2] = {{client >= 0 ? client : listener_->fd(), POLLIN, 0},
                       {stop_[0], POLLIN, 0}};
      if (poll(fds, 2, 10000) <= 0 || fds[1].revents != 0) break;
      if (client < 0) {
        client = accept(listener_->fd(), nullptr, nullptr);
        continue;
      }
      char buffer[4096];
      const ssize_t n = read(client, buffer, sizeof(buffer));
      if (n <= 0) {
        close(client);
        client = -1;
        continue;
      }
      (void)!write(client, buffer, static_cast<size_t>(n));
    }
    if (client >= 0) close(client);
  }
  std::unique_ptr<::cloudlink::testing::LoopbackListener> listener_;
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until `want` bytes arrived, EOF, or 10 s.
std::string ReadBytes(int fd, size_t want) {
  std::string got;
  const absl::Time deadline = absl::Now() + kWait;
  while (got.size() < want && absl::Now() < deadline) {
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    got.append(buffer, static_cast<size_t>(n));
  }
  return got;
}

class Socks5RelayTest : public ::testing::Test {
 protected:
  // Starts microsocks on a free loopback port, with credentials if given.
  void StartMicrosocks(const std::string& user = "",
                       const std::string& password = "") {
    proxy_port_ = PickFreePort();
    SubprocessOptions options;
    options.argv = {"/usr/bin/microsocks", "-i", "127.0.0.1", "-p",
                    absl::StrCat(proxy_port_)};
    if (!user.empty()) {
      options.argv.insert(options.argv.end(), {"-u", user, "-P", password});
    }
    auto started = Subprocess::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    microsocks_ = *std::move(started);
    ASSERT_TRUE(WaitFor(
        [&] { return testing::LoopbackPortAcceptsConnections(proxy_port_); },
        kWait));
  }

  Socks5RelayOptions Options(config::ProxyKind kind, int target_port,
                             const std::string& user = "",
                             const std::string& password = "") {
    Socks5RelayOptions options;
    options.proxy.kind = kind;
    options.proxy.host = "127.0.0.1";
    options.proxy.port = proxy_port_;
    options.proxy.username = user;
    options.proxy.password = password;
    options.target_host = "localhost";
    options.target_port = target_port;
    return options;
  }

  absl::Status WaitForHandshake(const Socks5Relay& relay) {
    EXPECT_TRUE(
        WaitFor([&] { return relay.handshake_status().has_value(); }, kWait));
    auto status = relay.handshake_status();
    return status.has_value() ? *status : absl::UnknownError("no result");
  }

  int proxy_port_ = 0;
  std::unique_ptr<Subprocess> microsocks_;
};

TEST_F(Socks5RelayTest, BytesGoThroughBothWaysSocks5h) {
  StartMicrosocks();
  EchoServer echo;
  auto relay =
      Socks5Relay::Start(Options(config::ProxyKind::kSocks5h, echo.port()));
  ASSERT_TRUE(relay.ok()) << relay.status();
  EXPECT_TRUE(absl::StartsWith((*relay)->socket_path(), "/tmp/cl."));
  const int fd = ConnectUnix((*relay)->socket_path());
  ASSERT_GE(fd, 0);
  const std::string message = "hello through socks\n";
  ASSERT_EQ(write(fd, message.data(), message.size()),
            static_cast<ssize_t>(message.size()));
  EXPECT_EQ(ReadBytes(fd, message.size()), message);
  EXPECT_TRUE(WaitForHandshake(**relay).ok());
  // A larger payload, to exercise partial reads and writes.
  std::string big(300 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  std::thread writer([&] {
    size_t sent = 0;
    while (sent < big.size()) {
      const ssize_t n = write(fd, big.data() + sent, big.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  });
  const std::string echoed = ReadBytes(fd, big.size());
  writer.join();
  EXPECT_TRUE(echoed == big) << echoed.size();
  close(fd);
}

TEST_F(Socks5RelayTest, Socks5ResolvesLocallyWithCredentials) {
  StartMicrosocks("alice", "wonder land");
  EchoServer echo;
  auto relay = Socks5Relay::Start(
      Options(config::ProxyKind::kSocks5, echo.port(), "alice", "wonder land"));
  ASSERT_TRUE(relay.ok()) << relay.status();
  const int fd = ConnectUnix((*relay)->socket_path());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "ping", 4), 4);
  EXPECT_EQ(ReadBytes(fd, 4), "ping");
  EXPECT_TRUE(WaitForHandshake(**relay).ok());
  close(fd);
}

TEST_F(Socks5RelayTest, WrongPasswordIsProxyAuth) {
  StartMicrosocks("alice", "right");
  EchoServer echo;
  auto relay = Socks5Relay::Start(
      Options(config::ProxyKind::kSocks5h, echo.port(), "alice", "wrong-pw"));
  ASSERT_TRUE(relay.ok()) << relay.status();
  const absl::Status status = WaitForHandshake(**relay);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(status), "PROXY_AUTH") << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "wrong-pw"));
  // The client side is refused, so lws sees the failure at once.
  const int fd = ConnectUnix((*relay)->socket_path());
  if (fd >= 0) {
    EXPECT_EQ(ReadBytes(fd, 1), "");
    close(fd);
  }
}

TEST_F(Socks5RelayTest, MissingCredentialsIsProxyAuth) {
  StartMicrosocks("alice", "right");
  auto relay = Socks5Relay::Start(Options(config::ProxyKind::kSocks5h, 9));
  ASSERT_TRUE(relay.ok());
  const absl::Status status = WaitForHandshake(**relay);
  EXPECT_EQ(ReasonOf(status), "PROXY_AUTH") << status;
}

TEST_F(Socks5RelayTest, TargetRefusedIsProxyFailedWithMeaning) {
  StartMicrosocks();
  const int closed_port = PickFreePort();
  auto relay =
      Socks5Relay::Start(Options(config::ProxyKind::kSocks5h, closed_port));
  ASSERT_TRUE(relay.ok());
  const absl::Status status = WaitForHandshake(**relay);
  EXPECT_EQ(ReasonOf(status), "PROXY_FAILED") << status;
  EXPECT_TRUE(absl::StrContains(status.message(),
                                absl::StrCat("localhost:", closed_port)))
      << status;
}

TEST_F(Socks5RelayTest, ProxyDownIsConnectFailed) {
  proxy_port_ = PickFreePort();  // nothing listens there
  auto relay = Socks5Relay::Start(Options(config::ProxyKind::kSocks5h, 443));
  ASSERT_TRUE(relay.ok());
  const absl::Status status = WaitForHandshake(**relay);
  EXPECT_EQ(ReasonOf(status), "CONNECT_FAILED") << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "SOCKS5 proxy")) << status;
}

TEST_F(Socks5RelayTest, SilentProxyTimesOutAsProxyFailed) {
  // A listener that accepts (via the backlog) but never speaks.
  auto silent = ::cloudlink::testing::LoopbackListener::Open();
  ASSERT_TRUE(silent.ok()) << silent.status();
  proxy_port_ = (*silent)->port();
  Socks5RelayOptions options = Options(config::ProxyKind::kSocks5h, 443);
  options.handshake_timeout = absl::Milliseconds(300);
  auto relay = Socks5Relay::Start(options);
  ASSERT_TRUE(relay.ok());
  const absl::Status status = WaitForHandshake(**relay);
  EXPECT_EQ(ReasonOf(status), "PROXY_FAILED") << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "in time")) << status;
}

// The timeouts are measured on the monotonic clock: with a wall clock that
// goes back an hour at every reading, a silent proxy still times out after
// handshake_timeout, not an hour (or many) later.
TEST_F(Socks5RelayTest, HandshakeTimeoutIsNotStretchedByWallClockSteps) {
  const int silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  ASSERT_EQ(listen(silent, 4), 0);
  proxy_port_ = ntohs(address.sin_port);
  ::cloudlink::testing::SteppingClock clock(-absl::Hours(1));
  Socks5RelayOptions options = Options(config::ProxyKind::kSocks5h, 443);
  options.handshake_timeout = absl::Milliseconds(300);
  options.clock = &clock;
  const MonotonicTime start = RealClock()->MonotonicNow();
  auto relay = Socks5Relay::Start(options);
  ASSERT_TRUE(relay.ok());
  const absl::Status status = WaitForHandshake(**relay);
  const absl::Duration took = RealClock()->MonotonicNow() - start;
  EXPECT_EQ(ReasonOf(status), "PROXY_FAILED") << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "in time")) << status;
  EXPECT_GE(took, absl::Milliseconds(300));
  EXPECT_LT(took, absl::Seconds(5));
  close(silent);
}

TEST_F(Socks5RelayTest, DestroyedMidHandshakeStopsPromptlyAndCleansUp) {
  auto silent = ::cloudlink::testing::LoopbackListener::Open();
  ASSERT_TRUE(silent.ok()) << silent.status();
  proxy_port_ = (*silent)->port();
  auto relay = Socks5Relay::Start(Options(config::ProxyKind::kSocks5h, 443));
  ASSERT_TRUE(relay.ok());
  const std::string path = (*relay)->socket_path();
  const std::string dir = path.substr(0, path.rfind('/'));
  EXPECT_EQ(::cloudlink::testing::FileMode(dir), 0700);
  const absl::Time before = absl::Now();
  relay->reset();
  EXPECT_LT(absl::Now() - before, absl::Seconds(2));
  EXPECT_FALSE(::cloudlink::testing::FileExists(path));
  EXPECT_FALSE(::cloudlink::testing::FileExists(dir));
}

TEST(Socks5RelayStartTest, RefusesNonSocksProxy) {
  Socks5RelayOptions options;
  options.proxy.kind = config::ProxyKind::kHttp;
  options.proxy.host = "127.0.0.1";
  options.proxy.port = 3128;
  options.target_host = "localhost";
  options.target_port = 443;
  EXPECT_EQ(ReasonOf(Socks5Relay::Start(options).status()), "PROXY_INVALID");
}

}  // namespace
}  // namespace cloudlink::socks5

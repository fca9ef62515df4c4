// The API under attack, against the real binaries: floods of idle
// connections on the remote listener (--listen) and the Unix socket, with the
// daemon started under a 1024 descriptor soft limit. Root keeps being
// served, the link stays online, and the remote listener works again once
// the flood ends, without a restart.
//
// Runs as root outside the sandbox (the Unix socket flood comes from a
// child running as uid 65534 with the socket's group).

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"
#include "tests/server/api/test_pki.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using ::testing::HasSubstr;

constexpr int kTcpFlood = 2000;
constexpr int kUnixFlood = 1000;
constexpr uid_t kNobody = 65534;

// A child holding `count` idle connections to the Unix socket at `socket`,
// made as uid 65534 with gid 0 (the socket's group when the admin group does
// not exist): a member of the socket's group, but not root.
class UnixFlood {
 public:
  UnixFlood(const std::string& socket_path, int count) {
    const size_t slash = socket_path.rfind('/');
    const std::string dir = socket_path.substr(0, slash);
    const std::string name = socket_path.substr(slash + 1);
    // The daemon's directories are root's (0700); the child reaches the
    // socket's own directory (0750, group 0) through a descriptor opened now.
    const int dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s",
             dir_fd, name.c_str());
    int ready[2];
    int hold[2];
    if (pipe(ready) != 0 || pipe(hold) != 0) return;
    const gid_t groups[] = {0};
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls in the child.
      close(ready[0]);
      close(hold[1]);
      if (setgroups(1, groups) != 0 || setgid(0) != 0 || setuid(kNobody) != 0) {
        _exit(126);
      }
      int made = 0;
      for (int i = 0; i < count; ++i) {
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) break;
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) ==
            0) {
          ++made;
        } else {
          close(fd);
        }
      }
      (void)!write(ready[1], &made, sizeof(made));
      char byte;
      (void)!read(hold[0], &byte, 1);  // until the parent lets go
      _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    close(dir_fd);
    release_ = hold[1];
    if (read(ready[0], &made_, sizeof(made_)) != sizeof(made_)) made_ = -1;
    close(ready[0]);
  }
  ~UnixFlood() { End(); }

  // Connections made (accepted by the kernel; the daemon may have closed
  // those over its caps), -1 when the child failed.
  int made() const { return made_; }

  void End() {
    if (pid_ <= 0) return;
    close(release_);
    int status = 0;
    if (!testing::WaitFor(
            [&] { return waitpid(pid_, &status, WNOHANG) == pid_; },
            absl::Seconds(10))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
  int made_ = -1;
};

// `count` idle TCP connections to 127.0.0.1:`port` that never send a byte.
std::vector<int> TcpFlood(int port, int count) {
  std::vector<int> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < count; ++i) {
    const int fd =
        socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fds.push_back(fd);
  }
  return fds;
}

class ApiLimitsTest : public LinkTestBase {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (setuid children)";
    LinkTestBase::SetUp();
    if (HasFatalFailure()) return;
    absl::StatusOr<testing::TestPki> pki =
        testing::TestPki::Create(tmp_.path(), "api");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = std::make_unique<testing::TestPki>(*pki);
    absl::StatusOr<testing::CertFiles> server = pki_->IssueServer("server");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    absl::StatusOr<testing::CertFiles> admin =
        pki_->IssueClient("admin", "/O=cloudlink tests/CN=fleet-admin");
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = *admin;
    subjects_ = tmp_.Join("allowed-subjects");
    ASSERT_TRUE(testing::WriteFile(subjects_,
                                   "admin CN=fleet-admin,O=cloudlink tests\n")
                    .ok());
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    saved_limit_ = limit;
  }
  void TearDown() override {
    if (saved_limit_.rlim_max != 0) setrlimit(RLIMIT_NOFILE, &saved_limit_);
    LinkTestBase::TearDown();
  }

  std::vector<std::string> ListenArgs(int port) const {
    return {absl::StrCat("--listen=127.0.0.1:", port),
            "--tls-cert=" + server_.cert, "--tls-key=" + server_.key,
            "--tls-client-ca=" + pki_->ca_cert(),
            "--tls-allowed-subjects=" + subjects_,
            // No such group: the socket is in the daemon's group (0).
            "--admin-group=clnogroup" + std::to_string(getpid())};
  }

  // A daemon started under a soft descriptor limit of 1024 (as many
  // service managers set it).
  CloudlinkdProcess* StartLimitedDaemon(std::vector<std::string> args) {
    rlimit low = saved_limit_;
    low.rlim_cur = std::min<rlim_t>(1024, saved_limit_.rlim_max);
    setrlimit(RLIMIT_NOFILE, &low);
    CloudlinkdOptions options = TrustingOptions();
    options.extra_args = std::move(args);
    CloudlinkdProcess* daemon = StartDaemon(options);
    setrlimit(RLIMIT_NOFILE, &saved_limit_);
    return daemon;
  }

  // cloudlinkctl over --listen with the admin's certificate.
  testing::RunResult RemoteAsAdmin(int port,
                                   const std::vector<std::string>& args) {
    testing::SubprocessOptions options;
    options.argv = {testing::RunfilePath("client/cloudlinkctl"),
                    "--target",
                    absl::StrCat("127.0.0.1:", port),
                    "--tls-cert",
                    admin_.cert,
                    "--tls-key",
                    admin_.key,
                    "--tls-ca",
                    pki_->ca_cert()};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<testing::RunResult> run =
        testing::Run(std::move(options), absl::Seconds(30));
    return run.ok() ? *run : testing::RunResult{};
  }

  // Root's GetState over the socket, timed.
  absl::Duration TimedRootGetState(nlohmann::json* state,
                                   CloudlinkdProcess* daemon) {
    const absl::Time start = absl::Now();
    absl::StatusOr<nlohmann::json> read = daemon->State();
    const absl::Duration took = absl::Now() - start;
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) *state = *read;
    return took;
  }

  std::unique_ptr<testing::TestPki> pki_;
  testing::CertFiles server_, admin_;
  std::string subjects_;
  rlimit saved_limit_{};
};

TEST_F(ApiLimitsTest, IdleConnectionFloodsLeaveRootServedAndTheLinkOnline) {
  const int port = testing::PickFreePort();
  CloudlinkdProcess* daemon = StartLimitedDaemon(ListenArgs(port));
  ASSERT_NE(daemon, nullptr);
  EXPECT_THAT(daemon->Stderr(), HasSubstr("descriptor limit raised from 1024"));
  Claim(daemon, "none");
  WaitForStatus(daemon, "online");
  ASSERT_FALSE(HasFailure()) << Diagnostics(daemon);

  std::vector<int> tcp = TcpFlood(port, kTcpFlood);
  EXPECT_EQ(tcp.size(), static_cast<size_t>(kTcpFlood));
  UnixFlood unix_flood(daemon->socket_path(), kUnixFlood);
  EXPECT_GT(unix_flood.made(), 0);

  // The caps were hit, and said so (rate-limited: a count, not a line each).
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return absl::StrContains(daemon->Stderr(),
                                 "(--listen-max-connections-per-address)") &&
               absl::StrContains(daemon->Stderr(),
                                 "(--socket-max-connections-per-uid)");
      },
      absl::Seconds(10)))
      << Diagnostics(daemon);
  // While the flood lasts, root is answered at once and the link stays up.
  for (int i = 0; i < 3; ++i) {
    nlohmann::json state;
    const absl::Duration took = TimedRootGetState(&state, daemon);
    EXPECT_LT(took, absl::Seconds(1)) << "GetState " << i;
    EXPECT_EQ(state.value("status", ""), "online") << state.dump();
  }
  const std::string log = daemon->Stderr();
  EXPECT_THAT(log, HasSubstr("more like it"));
  EXPECT_LT(std::count(log.begin(), log.end(), '\n'), 200)
      << "refusals are not logged one by one";

  for (int fd : tcp) close(fd);
  unix_flood.End();
  // Afterwards the remote listener serves an admin, without a restart.
  testing::RunResult admin;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        admin = RemoteAsAdmin(port, {"get-state", "--json"});
        return admin.exit_code == 0;
      },
      absl::Seconds(15)))
      << admin.out << admin.err << Diagnostics(daemon);
  nlohmann::json state;
  TimedRootGetState(&state, daemon);
  EXPECT_EQ(state.value("status", ""), "online");
}

TEST_F(ApiLimitsTest, ASilentTcpPeerIsClosedAfterTheHandshakeTimeout) {
  const int port = testing::PickFreePort();
  std::vector<std::string> args = ListenArgs(port);
  args.push_back("--tls-handshake-timeout=1s");
  CloudlinkdProcess* daemon = StartLimitedDaemon(args);
  ASSERT_NE(daemon, nullptr);
  std::vector<int> tcp = TcpFlood(port, 1);
  ASSERT_EQ(tcp.size(), 1u);
  // The daemon closes it: a read sees the end (bounded by the wait).
  const int fd = tcp[0];
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval five = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof(five));
  const absl::Time start = absl::Now();
  char byte;
  const ssize_t n = read(fd, &byte, 1);
  const absl::Duration took = absl::Now() - start;
  EXPECT_LE(n, 0);
  EXPECT_TRUE(n == 0 || errno == ECONNRESET) << strerror(errno);
  EXPECT_LT(took, absl::Seconds(4));
  close(fd);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return absl::StrContains(daemon->Stderr(),
                                 "no TLS handshake within 1s");
      },
      absl::Seconds(5)))
      << Diagnostics(daemon);
}

}  // namespace
}  // namespace cloudlink::integration

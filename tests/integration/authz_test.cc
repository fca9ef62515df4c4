// Authorization end to end: a real cloudlinkd run as
// root, real cloudlinkctl calls from other uids over the Unix socket, and
// over the remote mutual-TLS listener with certificates made here by openssl.
//
// Runs as root outside the sandbox (it creates a group and a user with
// groupadd/useradd, removed at the end, and drops privileges in children).

#include <fcntl.h>
#include <grp.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/server/api/test_pki.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using ::cloudlink::testing::CertFiles;
using ::cloudlink::testing::RunResult;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::TestPki;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr absl::Duration kCtlTimeout = absl::Seconds(30);

// Runs `command` as root; true when it exits 0.
bool RunQuiet(const std::vector<std::string>& command) {
  testing::SubprocessOptions options;
  options.argv = command;
  absl::StatusOr<RunResult> run =
      testing::Run(std::move(options), absl::Seconds(30));
  return run.ok() && run->exit_code == 0;
}

struct Identity {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;  // supplementary groups of the process
};

// Runs `argv` as `who` (setgroups, setgid, setuid in the child, then exec),
// bounded by `timeout`; the child is killed when it overruns. `pid`, when
// given, receives the child's pid.
RunResult RunAs(const Identity& who, const std::vector<std::string>& argv,
                const std::string& scratch_dir, absl::Duration timeout,
                pid_t* pid = nullptr) {
  static int serial = 0;
  const std::string base = absl::StrCat(scratch_dir, "/run", ++serial);
  RunResult result;
  const int out = open((base + ".out").c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err = open((base + ".err").c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // A bare environment, but sanitizer builds keep their options (TSan's
  // suppressions for the system libraries, see tools/sanitizers/).
  std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin"};
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (const char* value = getenv(name)) {
      env_strings.push_back(absl::StrCat(name, "=", value));
    }
  }
  std::vector<char*> env;
  for (std::string& entry : env_strings) env.push_back(entry.data());
  env.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    // Only async-signal-safe calls from here to exec.
    if (dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(125);
    if (setgroups(who.groups.size(), who.groups.data()) != 0 ||
        setgid(who.gid) != 0 || setuid(who.uid) != 0) {
      _exit(126);
    }
    execve(args[0], args.data(), env.data());
    _exit(127);
  }
  close(out);
  close(err);
  close(null);
  if (pid != nullptr) *pid = child;
  if (child < 0) {
    result.err = "fork failed";
    return result;
  }
  int status = 0;
  bool reaped = testing::WaitFor(
      [&] { return waitpid(child, &status, WNOHANG) == child; }, timeout);
  if (!reaped) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    result.err = "timed out; ";
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = testing::ReadFileOrEmpty(base + ".out");
  absl::StrAppend(&result.err, testing::ReadFileOrEmpty(base + ".err"));
  const std::string report = testing::SanitizerReport(result.err);
  EXPECT_TRUE(report.empty()) << argv[0] << ": " << report;
  return result;
}

std::string Describe(const RunResult& run) {
  return absl::StrCat("exit ", run.exit_code, "\nstdout: ", run.out,
                      "\nstderr: ", run.err);
}

// A cloudlinkd as root on its own directory (mode 0755 so that other uids
// can reach run/, whose mode and group the daemon decides).
class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(
      const std::string& ctl, std::vector<std::string> extra_args) {
    std::unique_ptr<Daemon> daemon(new Daemon());
    daemon->ctl_ = ctl;
    chmod(daemon->dir_.path().c_str(), 0755);
    daemon->socket_ = daemon->dir_.Join("run/cloudlink.sock");
    std::error_code ec;
    std::filesystem::create_directories(daemon->dir_.Join("etc"), ec);
    std::filesystem::create_directories(daemon->dir_.Join("lib"), ec);
    CloudlinkdOptions options;
    options.cloudlinkctl_path = ctl;
    options.socket_path = daemon->socket_;
    options.config_dir = daemon->dir_.Join("etc");
    options.lib_dir = daemon->dir_.Join("lib");
    options.extra_args = std::move(extra_args);
    options.ready_timeout = absl::Seconds(20);
    absl::StatusOr<std::unique_ptr<CloudlinkdProcess>> process =
        CloudlinkdProcess::Start(std::move(options));
    if (!process.ok()) {
      return absl::UnavailableError(absl::StrCat("cloudlinkd did not come up: ",
                                                 process.status().message()));
    }
    daemon->process_ = *std::move(process);
    return daemon;
  }

  ~Daemon() {
    if (process_ != nullptr && process_->process()->Running()) {
      (void)process_->Stop(absl::Seconds(10));
    }
  }

  // cloudlinkctl as root on the socket.
  RunResult Ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {ctl_, "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunAs({0, 0, {}}, argv, dir_.path(), kCtlTimeout);
  }
  // cloudlinkctl as `who` on the socket.
  RunResult CtlAs(const Identity& who, const std::vector<std::string>& args,
                  pid_t* pid = nullptr) {
    std::vector<std::string> argv = {ctl_, "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunAs(who, argv, dir_.path(), kCtlTimeout, pid);
  }

  const std::string& socket() const { return socket_; }
  std::string publish_socket() const { return dir_.Join("run/publish.sock"); }
  // The probe (tests/integration/fixtures/publish_socket_probe) as `who`.
  RunResult ProbeAs(const Identity& who, const std::string& probe) {
    return RunAs(who, {probe, publish_socket()}, dir_.path(), kCtlTimeout);
  }
  void Signal(int sig) { process_->process()->Signal(sig); }
  std::string socket_dir() const { return dir_.Join("run"); }
  std::string Stderr() const { return process_->Stderr(); }
  bool LogHas(const std::string& text) const {
    return testing::WaitFor([&] { return absl::StrContains(Stderr(), text); },
                            absl::Seconds(5));
  }

 private:
  Daemon() = default;
  TempDir dir_;
  std::string ctl_;
  std::string socket_;
  std::unique_ptr<CloudlinkdProcess> process_;
};

// Shared by every test: a copy of cloudlinkctl other uids may run (the
// runfiles live under /root), a test group and a user in it.
class AuthzTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    shared_ = new Shared();
    chmod(shared_->dir.path().c_str(), 0755);
    shared_->ctl = shared_->dir.Join("cloudlinkctl");
    std::error_code ec;
    std::filesystem::copy_file(testing::RunfilePath("client/cloudlinkctl"),
                               shared_->ctl, ec);
    chmod(shared_->ctl.c_str(), 0755);
    shared_->probe = shared_->dir.Join("publish_socket_probe");
    std::filesystem::copy_file(
        testing::RunfilePath("tests/integration/fixtures/publish_socket_probe"),
        shared_->probe, ec);
    chmod(shared_->probe.c_str(), 0755);
    const std::string suffix = absl::StrCat(getpid() % 1000000);
    shared_->group = "clauthz" + suffix;
    shared_->user = "clauthzu" + suffix;
    shared_->group_made = RunQuiet({"/usr/sbin/groupadd", shared_->group});
    shared_->user_made =
        shared_->group_made &&
        RunQuiet({"/usr/sbin/useradd", "-M", "-N", "-g", "nogroup", "-G",
                  shared_->group, "-s", "/usr/sbin/nologin", shared_->user});
    if (group* entry = getgrnam(shared_->group.c_str())) {
      shared_->gid = entry->gr_gid;
    }
    if (passwd* entry = getpwnam(shared_->user.c_str())) {
      shared_->user_uid = entry->pw_uid;
    }
  }
  static void TearDownTestSuite() {
    if (shared_ == nullptr) return;
    if (shared_->user_made) RunQuiet({"/usr/sbin/userdel", shared_->user});
    if (shared_->group_made) RunQuiet({"/usr/sbin/groupdel", shared_->group});
    delete shared_;
    shared_ = nullptr;
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (uids, groups, chown)";
    ASSERT_TRUE(testing::FileExists(shared_->ctl));
    ASSERT_TRUE(shared_->user_made) << "groupadd/useradd failed";
  }

  std::unique_ptr<Daemon> StartDaemon(std::vector<std::string> args) {
    absl::StatusOr<std::unique_ptr<Daemon>> daemon =
        Daemon::Start(shared_->ctl, std::move(args));
    EXPECT_TRUE(daemon.ok()) << daemon.status();
    return daemon.ok() ? *std::move(daemon) : nullptr;
  }

  struct Shared {
    TempDir dir;
    std::string ctl;
    std::string probe;  // publish_socket_probe, for other uids too
    std::string group;
    std::string user;
    bool group_made = false;
    bool user_made = false;
    gid_t gid = 0;
    uid_t user_uid = 0;
  };
  static Shared* shared_;
};

AuthzTest::Shared* AuthzTest::shared_ = nullptr;

const Identity kNobodyIdentity = {kNobody, kNogroup, {kNogroup}};

TEST_F(AuthzTest, RootMayMakeEveryCallAndMutatingCallsAreLogged) {
  auto daemon = StartDaemon({"--admin-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  RunResult state = daemon->Ctl({"get-state", "--json"});
  EXPECT_EQ(state.exit_code, 0) << Describe(state);
  pid_t pid = 0;
  RunResult reload = daemon->CtlAs(
      {0, 0, {}}, {"reload-claiming-state", "--wait-seconds", "1"}, &pid);
  // Allowed; the unclaimed node does not come online: exit 4, not 1.
  EXPECT_EQ(reload.exit_code, 4) << Describe(reload);
  EXPECT_THAT(reload.err, HasSubstr("STATE_NOT_REACHED"));
  EXPECT_TRUE(daemon->LogHas(
      absl::StrCat("API: ReloadClaimingState by uid 0 pid ", pid)))
      << daemon->Stderr();
  // The claim's own error, not an authorization one.
  RunResult claim = daemon->Ctl({"claim", "--token", "not a token"});
  EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
  EXPECT_THAT(claim.err, HasSubstr("TOKEN_INVALID_FORMAT"));
  EXPECT_THAT(claim.err, Not(HasSubstr("CALLER_NOT_AUTHORIZED")));
  EXPECT_TRUE(daemon->LogHas("API: Claim by uid 0 pid "));
}

TEST_F(AuthzTest, SocketAndItsDirectoryBelongToTheAdminGroup) {
  auto daemon = StartDaemon({"--admin-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  struct stat st;
  ASSERT_EQ(stat(daemon->socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, shared_->gid);
  ASSERT_EQ(stat(daemon->socket_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_gid, shared_->gid);
  // Outsiders cannot even connect.
  RunResult outsider = daemon->CtlAs(kNobodyIdentity, {"get-state"});
  EXPECT_EQ(outsider.exit_code, 3) << Describe(outsider);
}

// Who may not connect is told who may, and how to join, instead of
// "DAEMON_UNREACHABLE ... Is cloudlinkd running?".
TEST_F(AuthzTest, SocketPermissionErrorSaysWhoMayConnectAndHowToJoin) {
  auto daemon = StartDaemon({"--admin-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  // The 0750 directory stops nobody first.
  RunResult outsider = daemon->CtlAs(kNobodyIdentity, {"get-state"});
  EXPECT_EQ(outsider.exit_code, 3) << Describe(outsider);
  EXPECT_THAT(
      outsider.err,
      AllOf(HasSubstr("SOCKET_PERMISSION_DENIED: cloudlinkctl (user nobody, "
                      "uid 65534) may not connect to cloudlinkd's socket " +
                      daemon->socket()),
            HasSubstr("permission denied on its directory " +
                      daemon->socket_dir()),
            HasSubstr("Only root and members of group " + shared_->group +
                      " may connect"),
            HasSubstr("sudo usermod -aG " + shared_->group + " nobody"),
            HasSubstr("then log in again"),
            Not(HasSubstr("Is cloudlinkd running"))));
  // With --json, the same as a JSON error.
  RunResult json = daemon->CtlAs(kNobodyIdentity, {"--json", "get-state"});
  EXPECT_EQ(json.exit_code, 3) << Describe(json);
  nlohmann::json error = nlohmann::json::parse(json.err, nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << json.err;
  EXPECT_EQ(error["error"]["reason"], "SOCKET_PERMISSION_DENIED");
  EXPECT_EQ(error["error"]["code"], "PERMISSION_DENIED");
  EXPECT_EQ(error["error"]["exit_code"], 3);
  EXPECT_THAT(error["error"]["message"].get<std::string>(),
              HasSubstr("usermod -aG " + shared_->group));

  // A member of the group in its account whose session lacks the group
  // (it logged in before it was added) needs only to log in again.
  const Identity stale_session = {shared_->user_uid, kNogroup, {kNogroup}};
  RunResult stale = daemon->CtlAs(stale_session, {"get-state"});
  EXPECT_EQ(stale.exit_code, 3) << Describe(stale);
  EXPECT_THAT(stale.err,
              AllOf(HasSubstr("User " + shared_->user + " is in group " +
                              shared_->group + " already"),
                    HasSubstr("log in again"), Not(HasSubstr("usermod"))));

  // With the directory open, the 0660 socket itself refuses.
  ASSERT_EQ(chmod(daemon->socket_dir().c_str(), 0755), 0);
  RunResult socket = daemon->CtlAs(kNobodyIdentity, {"get-state"});
  EXPECT_EQ(socket.exit_code, 3) << Describe(socket);
  EXPECT_THAT(socket.err,
              AllOf(HasSubstr("SOCKET_PERMISSION_DENIED"),
                    HasSubstr("permission denied on the socket"),
                    HasSubstr("members of group " + shared_->group)));
}

TEST_F(AuthzTest, SocketOfRootsGroupIsForRootOnly) {
  const std::string missing = "clnogroup" + std::to_string(getpid());
  auto daemon = StartDaemon({"--admin-group=" + missing});
  ASSERT_NE(daemon, nullptr);
  ASSERT_EQ(chmod(daemon->socket_dir().c_str(), 0755), 0);
  RunResult outsider = daemon->CtlAs(kNobodyIdentity, {"get-state"});
  EXPECT_EQ(outsider.exit_code, 3) << Describe(outsider);
  EXPECT_THAT(outsider.err,
              AllOf(HasSubstr("SOCKET_PERMISSION_DENIED"),
                    HasSubstr("Only root may connect; run cloudlinkctl as "
                              "root (sudo)"),
                    Not(HasSubstr("usermod"))));
}

TEST_F(AuthzTest, AnOutsiderIsRefusedByUidEvenWhenItCanConnect) {
  auto daemon = StartDaemon({"--admin-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  // Open the way so that only the per-call check stands between nobody and
  // the daemon.
  ASSERT_EQ(chmod(daemon->socket_dir().c_str(), 0755), 0);
  ASSERT_EQ(chmod(daemon->socket().c_str(), 0666), 0);

  RunResult state = daemon->CtlAs(kNobodyIdentity, {"get-state"});
  EXPECT_EQ(state.exit_code, 1) << Describe(state);
  EXPECT_THAT(state.err,
              AllOf(HasSubstr("CALLER_NOT_AUTHORIZED: uid 65534 is not root "
                              "and not in group " +
                              shared_->group),
                    HasSubstr("PERMISSION_DENIED")));
  for (const std::vector<std::string>& call :
       std::vector<std::vector<std::string>>{
           {"claim", "--token", "abc"},
           {"reclaim"},
           {"reload-claiming-state"},
           {"publish"},  // no requests (stdin is empty): refused at once
           {"regenerate-token", "--space-id", "space-1", "--api-token",
            "secret-api-token"}}) {
    RunResult refused = daemon->CtlAs(kNobodyIdentity, call);
    EXPECT_EQ(refused.exit_code, 1) << call[0] << ": " << Describe(refused);
    EXPECT_THAT(refused.err,
                HasSubstr("CALLER_NOT_AUTHORIZED: uid 65534 is not root"))
        << call[0];
  }
  EXPECT_TRUE(daemon->LogHas("API: refused Claim from uid 65534 pid "));
  // Nothing was changed: the node is still unclaimed and never tried.
  RunResult after = daemon->Ctl({"get-state", "--json"});
  ASSERT_EQ(after.exit_code, 0);
  nlohmann::json json = nlohmann::json::parse(after.out, nullptr, false);
  EXPECT_EQ(json.value("claimed", true), false) << after.out;
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr("API: Claim by")));
}

TEST_F(AuthzTest, ThePublishSocketAdmitsCallersAsThePublishRpcDoes) {
  auto daemon = StartDaemon({"--admin-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  // Root is let in (the empty topic is then refused, message by message).
  RunResult root = daemon->ProbeAs({0, 0, {}}, shared_->probe);
  EXPECT_THAT(root.out, AllOf(HasSubstr("ack: INVALID_ARGUMENT: TOPIC_UNKNOWN"),
                              HasSubstr("close: OK")))
      << Describe(root) << daemon->Stderr();
  // An admin group member is let in.
  const Identity member = {
      shared_->user_uid, kNogroup, {kNogroup, shared_->gid}};
  RunResult admin = daemon->ProbeAs(member, shared_->probe);
  EXPECT_THAT(admin.out, HasSubstr("ack: INVALID_ARGUMENT: TOPIC_UNKNOWN"))
      << Describe(admin);
  // nobody cannot even reach it (mode 0660, the admin group) ...
  RunResult outsider = daemon->ProbeAs(kNobodyIdentity, shared_->probe);
  EXPECT_THAT(outsider.out, HasSubstr("close: UNAVAILABLE: cannot connect to "
                                      "the publish socket"))
      << Describe(outsider);
  // ... and when the way is open, the daemon refuses it by uid.
  ASSERT_EQ(chmod(daemon->socket_dir().c_str(), 0755), 0);
  ASSERT_EQ(chmod(daemon->publish_socket().c_str(), 0666), 0);
  RunResult refused = daemon->ProbeAs(kNobodyIdentity, shared_->probe);
  EXPECT_THAT(refused.out,
              HasSubstr("close: PERMISSION_DENIED: CALLER_NOT_AUTHORIZED: uid "
                        "65534 is not root"))
      << Describe(refused);
  EXPECT_TRUE(daemon->LogHas("PUBLISH: refused a connection of uid 65534"));
}

TEST_F(AuthzTest, PublisherGroupMembersReachThePublishSocket) {
  const std::string missing = "clnogroup" + std::to_string(getpid());
  auto daemon = StartDaemon(
      {"--admin-group=" + missing, "--publisher-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  // Not in the socket's group: the ACL entry lets the member in.
  const Identity member = {
      shared_->user_uid, kNogroup, {kNogroup, shared_->gid}};
  RunResult publisher = daemon->ProbeAs(member, shared_->probe);
  EXPECT_THAT(publisher.out,
              AllOf(HasSubstr("ack: INVALID_ARGUMENT: TOPIC_UNKNOWN"),
                    HasSubstr("close: OK")))
      << Describe(publisher) << daemon->Stderr();
}

TEST_F(AuthzTest, AdminGroupMembersMayMutate) {
  auto daemon = StartDaemon({"--admin-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  // A member through its account (useradd -G), with the groups a login
  // gives it (initgroups): the daemon sees uid and primary gid (nogroup) and
  // finds the membership in the account. No chmod needed: the socket and
  // its directory are the group's.
  const Identity member = {
      shared_->user_uid, kNogroup, {kNogroup, shared_->gid}};
  pid_t pid = 0;
  RunResult reload = daemon->CtlAs(
      member, {"reload-claiming-state", "--wait-seconds", "1"}, &pid);
  // Allowed; the unclaimed node does not come online: exit 4, not 1.
  EXPECT_EQ(reload.exit_code, 4) << Describe(reload);
  EXPECT_THAT(reload.err, HasSubstr("STATE_NOT_REACHED"));
  EXPECT_TRUE(daemon->LogHas(absl::StrCat("API: ReloadClaimingState by uid ",
                                          shared_->user_uid, " pid ", pid)))
      << daemon->Stderr();
  RunResult claim = daemon->CtlAs(member, {"claim", "--token", "bad token"});
  EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
  EXPECT_THAT(claim.err, AllOf(HasSubstr("TOKEN_INVALID_FORMAT"),
                               Not(HasSubstr("CALLER_NOT_AUTHORIZED"))));
  EXPECT_EQ(daemon->CtlAs(member, {"get-state"}).exit_code, 0);

  // A member by its process's gid (nobody running with the group's gid).
  const Identity by_gid = {kNobody, shared_->gid, {shared_->gid}};
  RunResult reload2 =
      daemon->CtlAs(by_gid, {"reload-claiming-state", "--wait-seconds", "1"});
  EXPECT_EQ(reload2.exit_code, 4) << Describe(reload2);
  EXPECT_THAT(reload2.err, HasSubstr("STATE_NOT_REACHED"));
}

TEST_F(AuthzTest, WithoutTheAdminGroupOnlyRootMutatesAndTheSocketGroupReads) {
  const std::string missing = "clnogroup" + std::to_string(getpid());
  auto daemon = StartDaemon({"--admin-group=" + missing});
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(daemon->LogHas("API: group " + missing +
                             " (--admin-group) does not exist"));
  const std::string log = daemon->Stderr();
  EXPECT_EQ(log.find("does not exist"), log.rfind("does not exist"))
      << "logged once";
  struct stat st;
  ASSERT_EQ(stat(daemon->socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 0u);  // the daemon's group
  ASSERT_EQ(chmod(daemon->socket_dir().c_str(), 0755), 0);

  // nobody with gid 0 is in the socket's group: it may read, not mutate.
  const Identity socket_group = {kNobody, 0, {0}};
  RunResult state = daemon->CtlAs(socket_group, {"get-state"});
  EXPECT_EQ(state.exit_code, 0) << Describe(state);
  RunResult claim = daemon->CtlAs(socket_group, {"claim", "--token", "abc"});
  EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
  EXPECT_THAT(claim.err, HasSubstr("CALLER_NOT_AUTHORIZED: uid 65534 is not "
                                   "root, and group " +
                                   missing + " does not exist"));
}

// A cloud.d owned by another user (who put their own cloud.conf in it):
// the root daemon refuses to start, naming the directory and the fix.
TEST_F(AuthzTest, ACloudDirOwnedByAnotherUserStopsTheStart) {
  TempDir lib;
  const std::string cloud_dir = lib.Join("cloud.d");
  ASSERT_EQ(mkdir(cloud_dir.c_str(), 0755), 0);
  ASSERT_TRUE(
      testing::WriteFile(cloud_dir + "/cloud.conf",
                         "[global]\n    url = https://attacker.invalid\n"
                         "    insecure = yes\n")
          .ok());
  ASSERT_EQ(chown(cloud_dir.c_str(), shared_->user_uid, kNogroup), 0);
  ASSERT_EQ(
      chown((cloud_dir + "/cloud.conf").c_str(), shared_->user_uid, kNogroup),
      0);
  absl::StatusOr<std::unique_ptr<Daemon>> daemon =
      Daemon::Start(shared_->ctl, {"--lib-dir=" + lib.path()});
  ASSERT_FALSE(daemon.ok()) << "started on another user's cloud.d";
  EXPECT_THAT(
      std::string(daemon.status().message()),
      AllOf(HasSubstr("STATE_DIR_UNSAFE: " + cloud_dir + " is owned by uid " +
                      std::to_string(shared_->user_uid)),
            HasSubstr("chown root " + cloud_dir),
            Not(HasSubstr("attacker.invalid"))));
}

TEST_F(AuthzTest, PublisherGroupMembersMayPublishAndReadOnly) {
  const std::string missing = "clnogroup" + std::to_string(getpid());
  auto daemon = StartDaemon(
      {"--admin-group=" + missing, "--publisher-group=" + shared_->group});
  ASSERT_NE(daemon, nullptr);
  // Not in the socket's group (the daemon's, 0): the ACL entry for the
  // publisher group lets the member in.
  const Identity member = {
      shared_->user_uid, kNogroup, {kNogroup, shared_->gid}};
  RunResult state = daemon->CtlAs(member, {"get-state"});
  EXPECT_EQ(state.exit_code, 0) << Describe(state) << daemon->Stderr();
  RunResult publish = daemon->CtlAs(member, {"publish"});
  EXPECT_THAT(publish.err, Not(HasSubstr("CALLER_NOT_AUTHORIZED")))
      << Describe(publish);
  RunResult claim = daemon->CtlAs(member, {"claim", "--token", "abc"});
  EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
  EXPECT_THAT(claim.err, AllOf(HasSubstr("CALLER_NOT_AUTHORIZED"),
                               HasSubstr("which may publish and read only")));
  // Outsiders still cannot even connect.
  RunResult outsider = daemon->CtlAs(kNobodyIdentity, {"get-state"});
  EXPECT_EQ(outsider.exit_code, 3) << Describe(outsider);
}

// The remote listener: a CA, the server's certificate, clients.
class RemoteAuthzTest : public AuthzTest {
 protected:
  void SetUp() override {
    AuthzTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    chmod(pki_dir_.path().c_str(), 0755);
    absl::StatusOr<TestPki> pki = TestPki::Create(pki_dir_.path(), "fleet");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = std::make_unique<TestPki>(*pki);
    absl::StatusOr<TestPki> foreign =
        TestPki::Create(pki_dir_.path(), "foreign");
    ASSERT_TRUE(foreign.ok()) << foreign.status();
    auto issue = [](absl::StatusOr<CertFiles> files, CertFiles* into) {
      ASSERT_TRUE(files.ok()) << files.status();
      *into = *files;
    };
    issue(pki_->IssueServer("server"), &server_);
    issue(pki_->IssueClient("admin", "/O=cloudlink tests/CN=fleet-admin"),
          &admin_);
    issue(pki_->IssueClient("reader", "/O=cloudlink tests/CN=dashboard"),
          &reader_);
    issue(pki_->IssueClient("stranger", "/O=cloudlink tests/CN=stranger"),
          &stranger_);
    // Same subject as the admin, but from a CA the daemon does not trust.
    issue(foreign->IssueClient("admin", "/O=cloudlink tests/CN=fleet-admin"),
          &foreign_);
    subjects_ = pki_dir_.Join("allowed-subjects");
    ASSERT_TRUE(testing::WriteFile(subjects_,
                                   "# who may manage this node remotely\n"
                                   "admin CN=fleet-admin, O=cloudlink tests\n"
                                   "read dashboard\n"
                                   "admin CN=ops,O=Example\n"
                                   "admin C=US,CN=alice,OU=Admins\n")
                    .ok());
  }

  std::vector<std::string> ListenArgs(int port) const {
    return {absl::StrCat("--listen=127.0.0.1:", port),
            "--tls-cert=" + server_.cert,
            "--tls-key=" + server_.key,
            "--tls-client-ca=" + pki_->ca_cert(),
            "--tls-allowed-subjects=" + subjects_,
            "--admin-group=" + shared_->group};
  }

  // cloudlinkctl --target 127.0.0.1:PORT as root with `client`'s files.
  RunResult Remote(int port, const CertFiles& client,
                   const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        shared_->ctl, "--target",  absl::StrCat("127.0.0.1:", port),
        "--tls-cert", client.cert, "--tls-key",
        client.key,   "--tls-ca",  pki_->ca_cert()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunAs({0, 0, {}}, argv, pki_dir_.path(), kCtlTimeout);
  }

  TempDir pki_dir_;
  std::unique_ptr<TestPki> pki_;
  CertFiles server_, admin_, reader_, stranger_, foreign_;
  std::string subjects_;
};

TEST_F(RemoteAuthzTest, ClientsGetWhatTheirCertificateAllows) {
  const int port = testing::PickFreePort();
  auto daemon = StartDaemon(ListenArgs(port));
  ASSERT_NE(daemon, nullptr);

  // Admin: every call; a claim reaches the claim's own validation.
  RunResult admin_state = Remote(port, admin_, {"get-state"});
  EXPECT_EQ(admin_state.exit_code, 0) << Describe(admin_state);
  RunResult admin_claim = Remote(port, admin_, {"claim", "--token", "x y"});
  EXPECT_EQ(admin_claim.exit_code, 1) << Describe(admin_claim);
  EXPECT_THAT(admin_claim.err, AllOf(HasSubstr("TOKEN_INVALID_FORMAT"),
                                     Not(HasSubstr("PERMISSION_DENIED"))));
  EXPECT_TRUE(daemon->LogHas(
      "API: Claim by CN=fleet-admin,O=cloudlink tests (tls ipv4:127.0.0.1:"))
      << daemon->Stderr();

  // Read-only: GetState yes, Claim no.
  RunResult reader_state = Remote(port, reader_, {"get-state", "--json"});
  EXPECT_EQ(reader_state.exit_code, 0) << Describe(reader_state);
  RunResult reader_claim = Remote(port, reader_, {"claim", "--token", "abc"});
  EXPECT_EQ(reader_claim.exit_code, 1) << Describe(reader_claim);
  EXPECT_THAT(reader_claim.err,
              AllOf(HasSubstr("CALLER_NOT_AUTHORIZED"),
                    HasSubstr("CN=dashboard,O=cloudlink tests"),
                    HasSubstr("read-only"), HasSubstr("PERMISSION_DENIED")));

  // Verified but not listed: refused, naming the subject.
  RunResult stranger = Remote(port, stranger_, {"get-state"});
  EXPECT_EQ(stranger.exit_code, 1) << Describe(stranger);
  EXPECT_THAT(stranger.err,
              AllOf(HasSubstr("\"CN=stranger,O=cloudlink tests\" is not in "
                              "the allowed subjects"),
                    HasSubstr("PERMISSION_DENIED")));

  // Another CA, even with the admin's subject: the handshake fails.
  RunResult foreign = Remote(port, foreign_, {"get-state"});
  EXPECT_EQ(foreign.exit_code, 3) << Describe(foreign);
  EXPECT_THAT(foreign.err,
              AllOf(HasSubstr("DAEMON_UNREACHABLE"), HasSubstr("UNAVAILABLE")));

  // No client certificate at all: the handshake fails.
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = testing::ReadFileOrEmpty(pki_->ca_cert());
  auto stub = cloudlink::v1::CloudLink::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::SslCredentials(no_cert)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  cloudlink::v1::State state;
  grpc::Status status = stub->GetState(&context, {}, &state);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

// The remote listener hands its connections to gRPC as the socket does, so
// a remote client is served after gRPC stopped for want of connections
// (--api-idle-stop), with its certificate's rights.
TEST_F(RemoteAuthzTest, ARemoteCallAfterAnIdleStopIsServed) {
  const int port = testing::PickFreePort();
  std::vector<std::string> args = ListenArgs(port);
  args.push_back("--api-idle-stop=1s");
  args.push_back("--log-level=debug");
  auto daemon = StartDaemon(args);
  ASSERT_NE(daemon, nullptr);
  RunResult first = Remote(port, reader_, {"get-state"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);

  const absl::Time limit = absl::Now() + absl::Seconds(20);
  while (!daemon->LogHas("API: gRPC stopped") && absl::Now() < limit) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(daemon->LogHas("API: gRPC stopped")) << daemon->Stderr();

  RunResult again = Remote(port, reader_, {"get-state", "--json"});
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
  RunResult claim = Remote(port, reader_, {"claim", "--token", "abc"});
  EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
  EXPECT_THAT(claim.err, HasSubstr("CALLER_NOT_AUTHORIZED"));
  EXPECT_TRUE(daemon->LogHas("API: gRPC started again for a new connection"))
      << daemon->Stderr();
}

// Names a CA may sign on request, crafted so that their printed, joined
// form imitates a listed subject.
TEST_F(RemoteAuthzTest, CraftedCertificateNamesAreRefused) {
  CertFiles ops, alice, newline_ops, newline_alice, multi_valued, newline_cn;
  auto issue = [&](const std::string& name, const std::string& subject,
                   CertFiles* into) {
    absl::StatusOr<CertFiles> files = pki_->IssueClient(name, subject);
    ASSERT_TRUE(files.ok()) << name << ": " << files.status();
    *into = *files;
  };
  issue("ops", "/O=Example/CN=ops", &ops);
  issue("alice", "/C=US/CN=alice/OU=Admins", &alice);
  issue("newline-ops", "/CN=ops\nO=Example", &newline_ops);
  issue("newline-alice", "/C=US/CN=alice\nOU=Admins", &newline_alice);
  issue("multi-valued", "/CN=ops+O=Example", &multi_valued);
  issue("newline-cn", "/O=Example/CN=dashboard\n", &newline_cn);
  if (HasFatalFailure()) return;
  const int port = testing::PickFreePort();
  auto daemon = StartDaemon(ListenArgs(port));
  ASSERT_NE(daemon, nullptr);

  // The honest certificates still get admin.
  for (const CertFiles* honest : {&ops, &alice}) {
    RunResult claim = Remote(port, *honest, {"claim", "--token", "x y"});
    EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
    EXPECT_THAT(claim.err, AllOf(HasSubstr("TOKEN_INVALID_FORMAT"),
                                 Not(HasSubstr("PERMISSION_DENIED"))));
  }

  struct Crafted {
    const CertFiles* files;
    std::string shown;  // as the refusal and the log show it
  } crafted[] = {
      {&newline_ops, "CN=ops\\0AO=Example"},
      {&newline_alice, "CN=alice\\0AOU=Admins,C=US"},
      {&multi_valued, "CN=ops+O=Example"},
      {&newline_cn, "CN=dashboard\\0A,O=Example"},
  };
  for (const Crafted& c : crafted) {
    for (const std::vector<std::string>& call :
         std::vector<std::vector<std::string>>{{"get-state"},
                                               {"claim", "--token", "x y"}}) {
      RunResult refused = Remote(port, *c.files, call);
      EXPECT_EQ(refused.exit_code, 1) << c.shown << " " << Describe(refused);
      EXPECT_THAT(refused.err, AllOf(HasSubstr("CALLER_NOT_AUTHORIZED"),
                                     HasSubstr("\"" + c.shown + "\""),
                                     HasSubstr("PERMISSION_DENIED"),
                                     Not(HasSubstr("TOKEN_INVALID_FORMAT"))))
          << c.shown;
    }
    EXPECT_TRUE(daemon->LogHas("API: refused Claim from " + c.shown + " (tls"))
        << daemon->Stderr();
  }
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr("\nO=Example")));
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr("API: Claim by CN=ops\\0A")));
}

TEST_F(RemoteAuthzTest, APublishEntryMayPublishAndReadOnly) {
  CertFiles producer;
  absl::StatusOr<CertFiles> issued =
      pki_->IssueClient("producer", "/O=cloudlink tests/CN=producer");
  ASSERT_TRUE(issued.ok()) << issued.status();
  producer = *issued;
  ASSERT_TRUE(testing::WriteFile(subjects_,
                                 "admin CN=fleet-admin, O=cloudlink tests\n"
                                 "publish producer\n")
                  .ok());
  const int port = testing::PickFreePort();
  auto daemon = StartDaemon(ListenArgs(port));
  ASSERT_NE(daemon, nullptr);
  RunResult state = Remote(port, producer, {"get-state"});
  EXPECT_EQ(state.exit_code, 0) << Describe(state);
  RunResult publish = Remote(port, producer, {"publish"});
  EXPECT_THAT(publish.err, Not(HasSubstr("CALLER_NOT_AUTHORIZED")))
      << Describe(publish);
  RunResult claim = Remote(port, producer, {"claim", "--token", "x y"});
  EXPECT_EQ(claim.exit_code, 1) << Describe(claim);
  EXPECT_THAT(claim.err, AllOf(HasSubstr("CALLER_NOT_AUTHORIZED"),
                               HasSubstr("publish and read only")));
}

TEST_F(RemoteAuthzTest, ARevokedCertificateFailsTheHandshake) {
  absl::StatusOr<std::string> crl = pki_->MakeCrl("crl", {reader_});
  ASSERT_TRUE(crl.ok()) << crl.status();
  const int port = testing::PickFreePort();
  std::vector<std::string> args = ListenArgs(port);
  args.push_back("--tls-crl=" + *crl);
  auto daemon = StartDaemon(args);
  ASSERT_NE(daemon, nullptr);
  RunResult admin = Remote(port, admin_, {"get-state"});
  EXPECT_EQ(admin.exit_code, 0) << Describe(admin);
  RunResult revoked = Remote(port, reader_, {"get-state"});
  EXPECT_EQ(revoked.exit_code, 3) << Describe(revoked);
  EXPECT_TRUE(daemon->LogHas("certificate revoked")) << daemon->Stderr();
}

TEST_F(RemoteAuthzTest, SighupRereadsTheCrlAndTheAllowedSubjects) {
  absl::StatusOr<std::string> none = pki_->MakeCrl("none", {});
  ASSERT_TRUE(none.ok()) << none.status();
  const std::string crl = pki_dir_.Join("crl.pem");
  ASSERT_TRUE(testing::WriteFile(crl, testing::ReadFileOrEmpty(*none)).ok());
  const int port = testing::PickFreePort();
  std::vector<std::string> args = ListenArgs(port);
  args.push_back("--tls-crl=" + crl);
  auto daemon = StartDaemon(args);
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(Remote(port, reader_, {"get-state"}).exit_code, 0);
  EXPECT_EQ(Remote(port, stranger_, {"get-state"}).exit_code, 1);

  // The reader revoked, the stranger listed; then SIGHUP.
  absl::StatusOr<std::string> revoking = pki_->MakeCrl("reader", {reader_});
  ASSERT_TRUE(revoking.ok()) << revoking.status();
  ASSERT_TRUE(
      testing::WriteFile(crl, testing::ReadFileOrEmpty(*revoking)).ok());
  ASSERT_TRUE(testing::WriteFile(subjects_,
                                 "admin CN=fleet-admin, O=cloudlink tests\n"
                                 "read dashboard\nread stranger\n")
                  .ok());
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(daemon->LogHas("API: reloaded the remote listener's"))
      << daemon->Stderr();
  EXPECT_EQ(Remote(port, reader_, {"get-state"}).exit_code, 3);
  RunResult stranger = Remote(port, stranger_, {"get-state"});
  EXPECT_EQ(stranger.exit_code, 0) << Describe(stranger);

  // A bad file keeps what is in force.
  ASSERT_TRUE(testing::WriteFile(crl, "not a crl\n").ok());
  daemon->Signal(SIGHUP);
  EXPECT_TRUE(daemon->LogHas("API: reload failed")) << daemon->Stderr();
  EXPECT_EQ(Remote(port, admin_, {"get-state"}).exit_code, 0);
  EXPECT_EQ(Remote(port, reader_, {"get-state"}).exit_code, 3);
}

TEST_F(RemoteAuthzTest, AKeyEveryUserMayReadIsWarnedAbout) {
  ASSERT_EQ(chmod(server_.key.c_str(), 0644), 0);
  const int port = testing::PickFreePort();
  auto daemon = StartDaemon(ListenArgs(port));
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(daemon->LogHas("API: --tls-key " + server_.key +
                             " holds the listener's private key and every "
                             "user may read it; fix: chmod o-r"))
      << daemon->Stderr();
  ASSERT_EQ(chmod(server_.key.c_str(), 0600), 0);
}

TEST_F(RemoteAuthzTest, IncompleteOrWrongTlsSettingsStopTheStart) {
  const int port = testing::PickFreePort();
  // No key: refused before anything starts, and no port is bound.
  std::vector<std::string> no_key = ListenArgs(port);
  no_key.erase(no_key.begin() + 2);
  absl::StatusOr<std::unique_ptr<Daemon>> missing =
      Daemon::Start(shared_->ctl, no_key);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("REMOTE_FLAGS_INVALID: --listen needs --tls-key"));

  // A key that is not the certificate's.
  std::vector<std::string> wrong_key = ListenArgs(port);
  wrong_key[2] = "--tls-key=" + admin_.key;
  absl::StatusOr<std::unique_ptr<Daemon>> wrong =
      Daemon::Start(shared_->ctl, wrong_key);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()),
              AllOf(HasSubstr("TLS_FILE_INVALID"),
                    HasSubstr("does not belong to the certificate")));
  EXPECT_THAT(std::string(wrong.status().message()),
              Not(HasSubstr("PRIVATE KEY")));
}

TEST_F(RemoteAuthzTest, OneClientManagesAFleetOfThree) {
  std::vector<std::unique_ptr<Daemon>> fleet;
  std::vector<int> ports;
  for (int i = 0; i < 3; ++i) {
    ports.push_back(testing::PickFreePort());
    fleet.push_back(StartDaemon(ListenArgs(ports.back())));
    ASSERT_NE(fleet.back(), nullptr);
  }
  std::set<std::string> guids;
  for (int port : ports) {
    RunResult state = Remote(port, admin_, {"get-state", "--json"});
    ASSERT_EQ(state.exit_code, 0) << port << ": " << Describe(state);
    nlohmann::json json = nlohmann::json::parse(state.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << state.out;
    guids.insert(json.value("machine_guid", ""));
  }
  EXPECT_EQ(guids.size(), 3u) << "three distinct nodes";
  for (int port : ports) {
    RunResult reload =
        Remote(port, admin_, {"reload-claiming-state", "--wait-seconds", "1"});
    // Allowed; the unclaimed node does not come online: exit 4, not 1.
    EXPECT_EQ(reload.exit_code, 4) << port << ": " << Describe(reload);
    EXPECT_THAT(reload.err, HasSubstr("STATE_NOT_REACHED"));
  }
  for (const auto& daemon : fleet) {
    EXPECT_TRUE(daemon->LogHas("API: ReloadClaimingState by CN=fleet-admin,O="))
        << daemon->Stderr();
  }
}

}  // namespace
}  // namespace cloudlink::integration

// Fault injection end to end: the real dev cloud,
// cloudlinkd and cloudlinkctl, tinyproxy, and tiny TCP servers of the test
// that misbehave on purpose. The cloud erroring (500/503 on the claim, 429
// with Retry-After on env), hanging past the 10 s request timeout, closing or
// answering garbage where TLS is expected; a proxy that dies mid-session, a
// closed proxy port and a proxy answering garbage; oversized and malformed
// RPC fields; file modes under umask 000 and 077; and 1,000 API calls from 50
// clients while the link flaps. Every wait is bounded; "never spins" is
// checked by counting requests over a window, and how far apart requests
// came by the times the dev cloud recorded for them.

#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/mutex.h"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/integration/fixtures/proxy_process.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kEnvPath[] = "/api/v1/env";
// The claimer's pauses between its 5 attempts: 300 ms + 100 ms × attempt.
constexpr absl::Duration kClaimPauses =
    absl::Milliseconds(400 + 500 + 600 + 700);
// The first automatic claim retry round comes no sooner than this
// (NodeOptions::claim_retry's minimum).
constexpr absl::Duration kClaimRetryMin = absl::Seconds(10);
// A window in which a node that spins would make many requests.
constexpr absl::Duration kSpinWatch = absl::Seconds(5);
constexpr absl::Duration kOnlineWait = absl::Seconds(25);
// Slack between the wall-clock stamps of two processes (the dev cloud's
// request times, the daemon's state) and the daemon's monotonic waits.
constexpr absl::Duration kClockSlack = absl::Milliseconds(100);

// The daemon's resident set (VmRSS of /proc/PID/status) in KiB, -1 unknown.
int64_t RssKib(pid_t pid) {
  const std::string status =
      testing::ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, "VmRSS:")) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, " kB");
    int64_t kib = -1;
    if (absl::SimpleAtoi(line, &kib)) return kib;
  }
  return -1;
}

// A TCP server on a free loopback port that misbehaves where a cloud or a
// proxy should be: kClose accepts and closes at once; kGarbage reads the
// request head (up to a blank line, 2 s at most) and answers "HELLO\r\n\r\n",
// then closes. Counts the connections it accepted. Serves on its own thread
// until destroyed.
class MisbehavingServer {
 public:
  enum class Mode { kClose, kGarbage };

  explicit MisbehavingServer(Mode mode) : mode_(mode) {
    absl::StatusOr<std::unique_ptr<testing::LoopbackListener>> listener =
        testing::LoopbackListener::Open();
    if (!listener.ok()) return;
    listener_ = *std::move(listener);
    thread_ = std::thread([this] { Serve(); });
  }

  ~MisbehavingServer() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  bool ok() const { return listener_ != nullptr; }
  int port() const { return listener_->port(); }
  int accepted() const { return accepted_.load(); }
  std::string url() const { return absl::StrCat("https://127.0.0.1:", port()); }

 private:
  void Serve() {
    while (!stop_.load()) {
      pollfd p{listener_->fd(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int conn = accept4(listener_->fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      accepted_.fetch_add(1);
      if (mode_ == Mode::kGarbage) Garbage(conn);
      close(conn);
    }
  }

  void Garbage(int conn) {
    std::string head;
    const absl::Time deadline = absl::Now() + absl::Seconds(2);
    while (!absl::StrContains(head, "\r\n\r\n") && head.size() < 65536 &&
           absl::Now() < deadline && !stop_.load()) {
      pollfd p{conn, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(conn, buf, sizeof(buf));
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    static constexpr char kGarbage[] = "HELLO\r\n\r\n";
    (void)!write(conn, kGarbage, sizeof(kGarbage) - 1);
  }

  const Mode mode_;
  std::unique_ptr<testing::LoopbackListener> listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

using Stub = cloudlink::v1::CloudLink::Stub;

std::unique_ptr<Stub> NewStub(const std::string& socket_path) {
  return cloudlink::v1::CloudLink::NewStub(grpc::CreateChannel(
      "unix:" + socket_path, grpc::InsecureChannelCredentials()));
}

class FaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DevCloudOptions options;
    // Small reconnect backoff (seconds) so that reconnects take seconds.
    options.backoff = devcloud::BackoffConfig{2, 1, 4};
    auto cloud = DevCloud::Start(tmp_.Join("cloud"), options);
    ASSERT_TRUE(cloud.ok()) << cloud.status();
    cloud_ = *std::move(cloud);
  }

  void TearDown() override {
    if (cloud_ == nullptr) return;
    ASSERT_TRUE(cloud_->ReloadEnv().ok());
    // No claim token, admin token or proxy password in any output.
    for (const auto& daemon : daemons_) {
      for (const std::string& secret : cloud_->Secrets()) {
        EXPECT_THAT(daemon->AllStderr(), Not(HasSubstr(secret)));
        EXPECT_THAT(daemon->transcript(), Not(HasSubstr(secret)));
      }
    }
  }

  CloudlinkdOptions TrustingOptions() const {
    CloudlinkdOptions options;
    options.cloud_ca = cloud_->ca_path();
    return options;
  }

  CloudlinkdProcess* StartDaemon(CloudlinkdOptions options) {
    auto daemon = CloudlinkdProcess::Start(std::move(options));
    EXPECT_TRUE(daemon.ok()) << daemon.status();
    if (!daemon.ok()) return nullptr;
    daemons_.push_back(*std::move(daemon));
    return daemons_.back().get();
  }
  CloudlinkdProcess* StartDaemon() { return StartDaemon(TrustingOptions()); }

  // claim.conf claiming with Space A's token at `url` without a proxy.
  std::string ClaimConf(const std::string& url) const {
    return absl::StrCat(
        "[global]\n  url = ", url, "\n  token = ", cloud_->Env("CLAIM_TOKEN"),
        "\n  rooms = ", cloud_->Env("ROOMS"), "\n  proxy = none\n");
  }

  // `cloudlinkctl --json claim` with Space A's token through `proxy`.
  testing::RunResult ClaimWith(CloudlinkdProcess* daemon,
                               const std::string& proxy,
                               const std::string& url = "") {
    return daemon->Ctl({"--json", "claim", "--token",
                        cloud_->Env("CLAIM_TOKEN"), "--rooms",
                        cloud_->Env("ROOMS"), "--url",
                        url.empty() ? cloud_->url() : url, "--proxy", proxy});
  }

  // Claims and waits until online; the claim id, "" with a failure.
  std::string ClaimOnline(CloudlinkdProcess* daemon,
                          const std::string& proxy = "none") {
    const testing::RunResult claimed = ClaimWith(daemon, proxy);
    EXPECT_EQ(claimed.exit_code, 0) << claimed.out << claimed.err;
    if (claimed.exit_code != 0) return "";
    const json state = WaitForStatus(daemon, "online", kOnlineWait);
    return state.value("claimed_id", "");
  }

  json WaitForStatus(CloudlinkdProcess* daemon, const std::string& status,
                     absl::Duration timeout) {
    absl::StatusOr<json> state = daemon->WaitForState(
        [&](const json& s) { return s.value("status", "") == status; },
        timeout);
    EXPECT_TRUE(state.ok()) << state.status();
    if (!state.ok()) return json::object();
    EXPECT_EQ(state->value("status", ""), status)
        << state->dump(2) << "\ndaemon log:\n"
        << daemon->AllStderr();
    return *state;
  }

  int Requests(const std::string& prefix) {
    absl::StatusOr<int> count = cloud_->RequestCount(prefix);
    EXPECT_TRUE(count.ok()) << count.status();
    return count.ok() ? *count : -1;
  }

  // When the dev cloud took the last `n` requests under `prefix` (fewer, with
  // a failure, when it has not seen that many), oldest first.
  std::vector<absl::Time> LastRequestTimes(const std::string& prefix,
                                           size_t n) {
    absl::StatusOr<std::vector<absl::Time>> times =
        cloud_->RequestTimes(prefix);
    EXPECT_TRUE(times.ok()) << times.status();
    if (!times.ok()) return {};
    EXPECT_GE(times->size(), n);
    return std::vector<absl::Time>(times->end() - std::min(n, times->size()),
                                   times->end());
  }

  // Every file under lib/cloud.d with its content and mode.
  std::map<std::string, std::string> CloudDirSnapshot(
      CloudlinkdProcess* daemon) {
    std::map<std::string, std::string> files;
    const std::string dir = daemon->lib_dir() + "/cloud.d/";
    for (const char* name :
         {"cloud.conf", "claimed_id", "private.pem", "public.pem"}) {
      const std::string path = dir + name;
      if (testing::FileExists(path)) {
        files[name] = absl::StrCat(testing::FileMode(path), ":",
                                   testing::ReadFileOrEmpty(path));
      }
    }
    return files;
  }

  testing::TempDir tmp_;
  std::unique_ptr<DevCloud> cloud_;
  std::vector<std::unique_ptr<CloudlinkdProcess>> daemons_;
};

// ---- The cloud answers errors ----------------------------------------------

// 500 then 503 to an automatic claim (from claim.conf): 5 attempts with the
// claimer's pauses, then the claim backoff (≥ 10 s) with the reason and the
// next attempt in the state; no request in between.
TEST_F(FaultsTest, ClaimCloudErrorsAreRetriedOnScheduleWithoutSpinning) {
  ASSERT_TRUE(cloud_
                  ->ArmFault({{"pathPrefix", DevCloud::kClaimPathPrefix},
                              {"status", 500},
                              {"count", 2}})
                  .ok());
  ASSERT_TRUE(cloud_
                  ->ArmFault({{"pathPrefix", DevCloud::kClaimPathPrefix},
                              {"status", 503},
                              {"count", 98}})
                  .ok());
  const int before = Requests(DevCloud::kClaimPathPrefix);
  CloudlinkdOptions options = TrustingOptions();
  options.claim_conf = ClaimConf(cloud_->url());
  CloudlinkdProcess* daemon = StartDaemon(options);
  ASSERT_NE(daemon, nullptr);

  absl::StatusOr<json> failed = daemon->WaitForState(
      [](const json& s) {
        return StateTime(s["next_attempt"]) != absl::InfinitePast();
      },
      absl::Seconds(20));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->value("status", ""), "available") << failed->dump(2);
  EXPECT_THAT(failed->value("reason", ""), StartsWith("CLOUD_ERROR_503"));
  EXPECT_GE(StateDuration((*failed)["last_backoff"]), kClaimRetryMin)
      << failed->dump(2);
  EXPECT_EQ(Requests(DevCloud::kClaimPathPrefix), before + 5);
  // When the five attempts came, by the dev cloud's clock: spaced by the
  // claimer's pauses, and the next round planned no sooner than the claim
  // backoff after the last one.
  const std::vector<absl::Time> attempts =
      LastRequestTimes(DevCloud::kClaimPathPrefix, 5);
  ASSERT_EQ(attempts.size(), 5u);
  EXPECT_GE(attempts.back() - attempts.front(), kClaimPauses);
  EXPECT_GE(StateTime((*failed)["next_attempt"]),
            attempts.back() + kClaimRetryMin - kClockSlack)
      << failed->dump(2);

  // No spinning: nothing more within the watch window (< the backoff).
  absl::SleepFor(kSpinWatch);  // a window to count in, not synchronization
  EXPECT_EQ(Requests(DevCloud::kClaimPathPrefix), before + 5);
  const std::string log = daemon->Stderr();
  EXPECT_THAT(log, HasSubstr("attempt 1 of 5 failed: CLOUD_ERROR_500"));
  EXPECT_THAT(log, HasSubstr("attempt 5 of 5 failed: CLOUD_ERROR_503"));
  EXPECT_THAT(log, HasSubstr("CLAIM: next automatic attempt in"));
  ASSERT_TRUE(cloud_->ClearFaults().ok());
}

// 429 with Retry-After on env, four times in a row: every retry waits at
// least Retry-After, the reason shows meanwhile, then the node goes online
// with exactly one env request per attempt.
TEST_F(FaultsTest, EnvTooManyRequestsIsRetriedNotBeforeRetryAfterEachTime) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ASSERT_FALSE(ClaimOnline(daemon).empty());
  ASSERT_TRUE(daemon->Stop().ok());
  constexpr int kRefusals = 4;
  constexpr absl::Duration kRetryAfter = absl::Seconds(2);
  ASSERT_TRUE(cloud_
                  ->ArmLoginError({{"count", kRefusals},
                                   {"status", 429},
                                   {"errorCode", "too-many-requests"},
                                   {"errorMsgKey", "ErrTooManyRequests"},
                                   {"errorMessage", "slow down"},
                                   {"headers", {{"Retry-After", "2"}}}})
                  .ok());
  const int env_before = Requests(kEnvPath);
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());

  // Refused: the reason and a wait of at least Retry-After show.
  absl::StatusOr<json> refused = daemon->WaitForState(
      [](const json& s) {
        return !s.value("reason", "").empty() &&
               StateTime(s["next_attempt"]) != absl::InfinitePast();
      },
      absl::Seconds(15));
  ASSERT_TRUE(refused.ok()) << refused.status();
  const std::string offline_reason = refused->value("reason", "");
  EXPECT_GE(StateDuration((*refused)["last_backoff"]), kRetryAfter)
      << refused->dump(2);
  const json online = WaitForStatus(daemon, "online", absl::Seconds(45));
  EXPECT_EQ(Requests(kEnvPath), env_before + kRefusals + 1) << daemon->Stderr();
  EXPECT_FALSE(offline_reason.empty());
  EXPECT_THAT(offline_reason, HasSubstr("429")) << offline_reason;
  // How far apart the env requests came, by the dev cloud's clock.
  const std::vector<absl::Time> attempts =
      LastRequestTimes(kEnvPath, kRefusals + 1);
  ASSERT_EQ(attempts.size(), static_cast<size_t>(kRefusals + 1));
  for (size_t i = 1; i < attempts.size(); ++i) {
    EXPECT_GE(attempts[i] - attempts[i - 1], kRetryAfter - kClockSlack)
        << "env request " << i << " came too soon\n"
        << daemon->Stderr();
  }
}

// ---- The cloud hangs
// ---------------------------------------------------------

// The claim request hangs beyond the 10 s total timeout: that attempt fails
// with a timeout (CONNECT_FAILED ... timed out) and is retried, and GetState
// answers within 1 s all along.
TEST_F(FaultsTest, HangingClaimTimesOutWhileTheApiKeepsAnswering) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(cloud_
                  ->ArmFault({{"pathPrefix", DevCloud::kClaimPathPrefix},
                              {"status", 503},
                              {"count", 1},
                              {"delayMs", 14000}})
                  .ok());
  std::unique_ptr<Stub> claim_stub = NewStub(daemon->socket_path());
  cloudlink::v1::ClaimRequest request;
  request.set_token(cloud_->Env("CLAIM_TOKEN"));
  for (absl::string_view room : absl::StrSplit(cloud_->Env("ROOMS"), ',')) {
    request.add_rooms(std::string(room));
  }
  request.set_url(cloud_->url());
  request.set_proxy("none");
  grpc::Status claim_status;
  cloudlink::v1::ClaimResponse claim_response;
  std::atomic<bool> claim_done{false};
  const absl::Time started = absl::Now();
  std::thread claimer([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(40));
    claim_status = claim_stub->Claim(&context, request, &claim_response);
    claim_done.store(true);
  });

  std::unique_ptr<Stub> stub = NewStub(daemon->socket_path());
  int answered_during_hang = 0;
  while (!claim_done.load() && absl::Now() < started + absl::Seconds(40)) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(1));
    cloudlink::v1::State state;
    const grpc::Status got =
        stub->GetState(&context, cloudlink::v1::GetStateRequest(), &state);
    EXPECT_TRUE(got.ok()) << got.error_code() << " " << got.error_message()
                          << " after "
                          << absl::FormatDuration(absl::Now() - started);
    if (got.ok() && !claim_done.load()) ++answered_during_hang;
    absl::SleepFor(absl::Milliseconds(500));  // pacing, not synchronization
  }
  claimer.join();
  const absl::Duration took = absl::Now() - started;
  EXPECT_TRUE(claim_status.ok()) << claim_status.error_message();
  EXPECT_GE(took, absl::Seconds(10));  // the first attempt's whole timeout
  EXPECT_LT(took, absl::Seconds(20));
  EXPECT_GE(answered_during_hang, 10);
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("attempt 1 of 5 failed: CONNECT_FAILED"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("timed out"));
  EXPECT_EQ(daemon->ClaimedIdFile(), claim_response.claimed_id());
}

// ---- The cloud is not TLS
// ----------------------------------------------------

class MisbehavingCloudTest
    : public FaultsTest,
      public ::testing::WithParamInterface<MisbehavingServer::Mode> {};

// An automatic claim against a server that closes at once or answers
// garbage instead of a TLS handshake: CONNECT_FAILED / TLS_FAILED, 5
// attempts, then the claim backoff; no spinning.
TEST_P(MisbehavingCloudTest, ClaimFailsWithAReasonAndBacksOff) {
  MisbehavingServer server(GetParam());
  ASSERT_TRUE(server.ok());
  CloudlinkdOptions options = TrustingOptions();
  options.claim_conf = ClaimConf(server.url());
  CloudlinkdProcess* daemon = StartDaemon(options);
  ASSERT_NE(daemon, nullptr);
  absl::StatusOr<json> failed = daemon->WaitForState(
      [](const json& s) {
        return StateTime(s["next_attempt"]) != absl::InfinitePast();
      },
      absl::Seconds(30));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_THAT(failed->value("reason", ""),
              AnyOf(StartsWith("CONNECT_FAILED"), StartsWith("TLS_FAILED")))
      << failed->dump(2);
  EXPECT_GE(StateDuration((*failed)["last_backoff"]), kClaimRetryMin);
  EXPECT_EQ(server.accepted(), 5);
  absl::SleepFor(kSpinWatch);  // a window to count in
  EXPECT_EQ(server.accepted(), 5) << daemon->Stderr();
}

// The link of a claimed node whose cloud.conf names such a server: offline
// with CONNECT_FAILED / TLS_FAILED, reconnecting with backoff (≥ 1 s apart).
TEST_P(MisbehavingCloudTest, LinkFailsWithAReasonAndBacksOff) {
  MisbehavingServer server(GetParam());
  ASSERT_TRUE(server.ok());
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ASSERT_FALSE(ClaimOnline(daemon).empty());
  ASSERT_TRUE(daemon->Stop().ok());
  const std::string conf_path = daemon->lib_dir() + "/cloud.d/cloud.conf";
  std::string conf = testing::ReadFileOrEmpty(conf_path);
  const std::string old_url = absl::StrCat("url = ", cloud_->url());
  ASSERT_THAT(conf, HasSubstr(old_url));
  conf.replace(conf.find(old_url), old_url.size(),
               absl::StrCat("url = ", server.url()));
  ASSERT_TRUE(testing::WriteFile(conf_path, conf).ok());
  ASSERT_EQ(chmod(conf_path.c_str(), 0600), 0);
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());

  absl::StatusOr<json> offline = daemon->WaitForState(
      [](const json& s) {
        return StateTime(s["next_attempt"]) != absl::InfinitePast();
      },
      absl::Seconds(15));
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_EQ(offline->value("status", ""), "offline");
  EXPECT_THAT(offline->value("reason", ""),
              AnyOf(StartsWith("CONNECT_FAILED"), StartsWith("TLS_FAILED")))
      << offline->dump(2);
  const int first = server.accepted();
  absl::SleepFor(kSpinWatch);  // a window to count in
  const int attempts = server.accepted() - first;
  // Backoff from 1 s up: at most one attempt per second, and some.
  EXPECT_GE(attempts, 1);
  EXPECT_LE(attempts, 6) << daemon->Stderr();
}

INSTANTIATE_TEST_SUITE_P(
    Modes, MisbehavingCloudTest,
    ::testing::Values(MisbehavingServer::Mode::kClose,
                      MisbehavingServer::Mode::kGarbage),
    [](const ::testing::TestParamInfo<MisbehavingServer::Mode>& info) {
      return info.param == MisbehavingServer::Mode::kClose ? "Closes"
                                                           : "AnswersGarbage";
    });

// ---- Proxies
// -----------------------------------------------------------------

// tinyproxy dies while the node is online through it: offline with a reason
// (PROXY_FAILED once it retries); a new tinyproxy on the same port brings it
// back online.
TEST_F(FaultsTest, ProxyDyingMidSessionGoesOfflineAndReturnsWithTheProxy) {
  ProxyOptions first;
  first.kind = ProxyKind::kTinyproxy;
  auto proxy = ProxyProcess::Start(first);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const int port = (*proxy)->port();
  const std::string proxy_url = (*proxy)->Url("http");
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ASSERT_FALSE(ClaimOnline(daemon, proxy_url).empty());
  ASSERT_TRUE(
      (*proxy)->WaitForTunnelTo("127.0.0.1", cloud_->port(), absl::Seconds(5)));

  proxy->reset();  // SIGKILL to tinyproxy's process group
  const json offline = WaitForStatus(daemon, "offline", absl::Seconds(15));
  EXPECT_FALSE(offline.value("reason", "").empty()) << offline.dump(2);
  absl::StatusOr<json> proxy_failed = daemon->WaitForState(
      [](const json& s) {
        return absl::StartsWith(s.value("reason", ""), "PROXY_FAILED");
      },
      absl::Seconds(15));
  ASSERT_TRUE(proxy_failed.ok()) << proxy_failed.status();
  EXPECT_THAT(proxy_failed->value("reason", ""), StartsWith("PROXY_FAILED"))
      << proxy_failed->dump(2);

  ProxyOptions again;
  again.kind = ProxyKind::kTinyproxy;
  again.port = port;
  auto revived = ProxyProcess::Start(again);
  ASSERT_TRUE(revived.ok()) << revived.status();
  WaitForStatus(daemon, "online", kOnlineWait);
  EXPECT_TRUE((*revived)->WaitForTunnelTo("127.0.0.1", cloud_->port(),
                                          absl::Seconds(5)));
}

// A proxy port where nothing listens, and a "proxy" answering garbage to
// CONNECT: the claim fails with PROXY_FAILED and nothing is stored.
TEST_F(FaultsTest, ClosedOrGarbageProxyIsProxyFailed) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const int before = Requests(DevCloud::kClaimPathPrefix);

  const std::string closed =
      absl::StrCat("http://127.0.0.1:", testing::PickFreePort());
  testing::RunResult refused = ClaimWith(daemon, closed);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("PROXY_FAILED")) << refused.out;

  MisbehavingServer garbage(MisbehavingServer::Mode::kGarbage);
  ASSERT_TRUE(garbage.ok());
  testing::RunResult answered =
      ClaimWith(daemon, absl::StrCat("http://127.0.0.1:", garbage.port()));
  EXPECT_NE(answered.exit_code, 0);
  EXPECT_THAT(answered.err, HasSubstr("PROXY_FAILED")) << answered.out;
  EXPECT_EQ(garbage.accepted(), 5);  // retried like any transport error

  EXPECT_EQ(Requests(DevCloud::kClaimPathPrefix), before);
  EXPECT_TRUE(CloudDirSnapshot(daemon).count("claimed_id") == 0);
  absl::StatusOr<json> state = daemon->State();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(state->value("reason", ""), StartsWith("PROXY_FAILED"));
}

// ---- Oversized and malformed RPC fields
// --------------------------------------

TEST_F(FaultsTest, OversizedAndMalformedClaimFieldsAreRefusedCleanly) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = ClaimOnline(daemon);
  ASSERT_FALSE(claimed_id.empty());
  const std::map<std::string, std::string> stored = CloudDirSnapshot(daemon);
  ASSERT_EQ(stored.size(), 4u);
  const int claims_before = Requests(DevCloud::kClaimPathPrefix);
  std::unique_ptr<Stub> stub = NewStub(daemon->socket_path());

  auto claim = [&](const cloudlink::v1::ClaimRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    cloudlink::v1::ClaimResponse response;
    return stub->Claim(&context, request, &response);
  };
  auto reclaim = [&](const cloudlink::v1::ReclaimRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    cloudlink::v1::ReclaimResponse response;
    return stub->Reclaim(&context, request, &response);
  };
  auto valid_claim = [&] {
    cloudlink::v1::ClaimRequest request;
    request.set_token(cloud_->Env("CLAIM_TOKEN"));
    request.set_url(cloud_->url());
    request.set_proxy("none");
    return request;
  };

  // 10 MiB token: beyond gRPC's 4 MiB receive limit (or ours).
  {
    cloudlink::v1::ClaimRequest request = valid_claim();
    request.set_token(std::string(10 << 20, 'a'));
    const grpc::Status status = claim(request);
    EXPECT_THAT(status.error_code(), AnyOf(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                           grpc::StatusCode::INVALID_ARGUMENT))
        << status.error_message();
    cloudlink::v1::ReclaimRequest re;
    re.set_token(std::string(10 << 20, 'a'));
    const grpc::Status re_status = reclaim(re);
    EXPECT_THAT(re_status.error_code(),
                AnyOf(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      grpc::StatusCode::INVALID_ARGUMENT))
        << re_status.error_message();
  }
  // 1 MiB token: ours to refuse.
  {
    cloudlink::v1::ClaimRequest request = valid_claim();
    request.set_token(std::string(1 << 20, 'a'));
    const grpc::Status status = claim(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), StartsWith("TOKEN_INVALID_FORMAT"));
    cloudlink::v1::ReclaimRequest re;
    re.set_token(std::string(1 << 20, 'a'));
    const grpc::Status re_status = reclaim(re);
    EXPECT_EQ(re_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(re_status.error_message(), StartsWith("TOKEN_INVALID_FORMAT"));
  }
  // Invalid UTF-8 in string fields: protobuf refuses to parse the request
  // (proto3 strings must be UTF-8) before our handler runs; the API answers
  // INVALID_ARGUMENT REQUEST_MALFORMED instead of gRPC's bare INTERNAL, and
  // nothing is done.
  const std::string bad = "ab\xff\xfe\xc3(";
  for (const std::string field : {"token", "url", "proxy", "room"}) {
    SCOPED_TRACE(field);
    cloudlink::v1::ClaimRequest request = valid_claim();
    if (field == "token") request.set_token(bad);
    if (field == "url") request.set_url(cloud_->url() + bad);
    if (field == "proxy") request.set_proxy(bad);
    if (field == "room") request.add_rooms(bad);
    const grpc::Status status = claim(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(),
                StartsWith("REQUEST_MALFORMED: the "
                           "/cloudlink.v1.CloudLink/Claim request did not "
                           "parse"));
  }
  {
    cloudlink::v1::ReclaimRequest re;
    re.set_token(cloud_->Env("CLAIM_TOKEN"));
    re.add_rooms(bad);
    const grpc::Status status = reclaim(re);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), StartsWith("REQUEST_MALFORMED"));
  }
  // 10,000 rooms.
  {
    cloudlink::v1::ClaimRequest request = valid_claim();
    for (int i = 0; i < 10000; ++i) request.add_rooms(absl::StrCat("r", i));
    const grpc::Status status = claim(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), StartsWith("ROOMS_INVALID"));
    cloudlink::v1::ReclaimRequest re;
    re.set_token(cloud_->Env("CLAIM_TOKEN"));
    for (int i = 0; i < 10000; ++i) re.add_rooms(absl::StrCat("r", i));
    const grpc::Status re_status = reclaim(re);
    EXPECT_EQ(re_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(re_status.error_message(), StartsWith("ROOMS_INVALID"));
  }

  // Nothing reached the cloud, nothing changed on disk, still online.
  EXPECT_EQ(Requests(DevCloud::kClaimPathPrefix), claims_before);
  EXPECT_EQ(CloudDirSnapshot(daemon), stored);
  absl::StatusOr<json> state = daemon->State();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->value("status", ""), "online");
  EXPECT_EQ(state->value("claimed_id", ""), claimed_id);
}

// ---- File modes whatever the umask
// -------------------------------------------

class FileModesTest : public FaultsTest,
                      public ::testing::WithParamInterface<int> {
 protected:
  void ExpectModes(CloudlinkdProcess* daemon, const std::string& when) {
    SCOPED_TRACE(when);
    const std::string lib = daemon->lib_dir();
    const std::map<std::string, int> expected = {
        {lib + "/cloud.d", 0700},
        {lib + "/cloud.d/private.pem", 0600},
        {lib + "/cloud.d/public.pem", 0644},
        {lib + "/cloud.d/claimed_id", 0644},
        {lib + "/cloud.d/cloud.conf", 0600},
        {lib + "/registry/netdata.public.unique.id", 0644},
    };
    for (const auto& [path, mode] : expected) {
      EXPECT_EQ(testing::FileMode(path), mode)
          << path << std::oct << " is 0" << testing::FileMode(path)
          << ", want 0" << mode;
    }
    if (testing::FileExists(daemon->claim_conf_path())) {
      EXPECT_EQ(testing::FileMode(daemon->claim_conf_path()), 0640)
          << std::oct << testing::FileMode(daemon->claim_conf_path());
    }
  }
};

TEST_P(FileModesTest, StateFilesKeepTheirModes) {
  CloudlinkdOptions options = TrustingOptions();
  options.umask = GetParam();
  CloudlinkdProcess* daemon = StartDaemon(options);
  ASSERT_NE(daemon, nullptr);

  testing::RunResult claimed = ClaimWith(daemon, "none");
  ASSERT_EQ(claimed.exit_code, 0) << claimed.out << claimed.err;
  ExpectModes(daemon, "after claim");

  testing::RunResult reclaimed =
      daemon->Ctl({"--json", "reclaim", "--new-identity", "--token",
                   cloud_->Env("CLAIM_TOKEN"), "--rooms", cloud_->Env("ROOMS"),
                   "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(reclaimed.exit_code, 0) << reclaimed.out << reclaimed.err;
  ExpectModes(daemon, "after reclaim with a new identity");

  testing::RunResult regenerated = daemon->CtlUnrecorded(
      {"--json", "regenerate-token", "--space-id", cloud_->Env("SPACE_ID"),
       "--api-token", cloud_->Env("ADMIN_API_TOKEN"), "--url", cloud_->url(),
       "--update-claim-conf"});
  ASSERT_EQ(regenerated.exit_code, 0) << regenerated.err;
  ASSERT_TRUE(testing::FileExists(daemon->claim_conf_path()));
  ExpectModes(daemon, "after regenerate-token --update-claim-conf");
  // The regenerated token is a secret of the dev cloud now.
  ASSERT_TRUE(cloud_->ReloadEnv().ok());

  CloudlinkdOptions again = TrustingOptions();
  again.umask = GetParam();
  ASSERT_TRUE(daemon->Restart(again).ok());
  ExpectModes(daemon, "after a restart");
  // And the files still work: the node goes online with them.
  WaitForStatus(daemon, "online", kOnlineWait);
}

INSTANTIATE_TEST_SUITE_P(Umasks, FileModesTest, ::testing::Values(0000, 0077),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? "Umask000" : "Umask077";
                         });

// ---- Many clients while the link flaps
// ---------------------------------------

// The bound on the daemon's RSS growth over those calls. Sanitizer builds
// grow with every allocation, leak or not: ASan parks freed memory in its
// quarantine (256 MiB by default) and TSan keeps shadow memory and access
// history per allocation. There the bound only catches gross leaks.
#if defined(__SANITIZE_ADDRESS__) || defined(CLOUDLINK_TSAN)
constexpr int64_t kRssGrowthBoundKib = 512 * 1024;
#else
constexpr int64_t kRssGrowthBoundKib = 50 * 1024;
#endif

// 50 clients (each its own gRPC channel on the Unix socket) make 1,000 calls
// while the broker goes away and comes back three times: every call is
// answered with OK or a proper status, every client finishes in time, and
// the daemon's memory stays bounded.
TEST_F(FaultsTest, ThousandCallsFromFiftyClientsWhileTheLinkFlaps) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string claimed_id = ClaimOnline(daemon);
  ASSERT_FALSE(claimed_id.empty());
  const pid_t pid = daemon->process()->pid();
  const int64_t rss_before = RssKib(pid);
  ASSERT_GT(rss_before, 0);

  constexpr int kClients = 50;
  constexpr int kCallsPerClient = 20;
  const std::string token = cloud_->Env("CLAIM_TOKEN");
  const std::string url = cloud_->url();
  Mutex mu;
  std::map<int, int> codes;  // grpc status code → calls
  std::vector<std::string> unexpected;
  std::atomic<int> finished{0};
  std::vector<std::thread> clients;
  const absl::Time started = absl::Now();
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::unique_ptr<Stub> stub = NewStub(daemon->socket_path());
      for (int i = 0; i < kCallsPerClient; ++i) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
        grpc::Status status;
        const int kind = (c + i) % 10;
        if (kind < 7) {
          cloudlink::v1::State state;
          status = stub->GetState(&context, cloudlink::v1::GetStateRequest(),
                                  &state);
        } else if (kind < 9) {
          // The same claim again: OK, already claimed.
          cloudlink::v1::ClaimRequest request;
          request.set_token(token);
          request.set_url(url);
          request.set_proxy("none");
          cloudlink::v1::ClaimResponse response;
          status = stub->Claim(&context, request, &response);
          if (status.ok() && !response.already_claimed()) {
            MutexLock lock(&mu);
            unexpected.push_back("a repeated claim was not already_claimed");
          }
        } else {
          cloudlink::v1::ClaimRequest request;  // no token
          cloudlink::v1::ClaimResponse response;
          status = stub->Claim(&context, request, &response);
        }
        MutexLock lock(&mu);
        ++codes[status.error_code()];
        const bool proper =
            status.ok() ||
            (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
             absl::StartsWith(status.error_message(), "TOKEN_INVALID_FORMAT"));
        if (!proper) {
          unexpected.push_back(absl::StrCat("client ", c, " call ", i,
                                            ": code ", status.error_code(), " ",
                                            status.error_message()));
        }
      }
      finished.fetch_add(1);
    });
  }

  // Flap the link meanwhile.
  for (int flap = 0; flap < 3; ++flap) {
    EXPECT_TRUE(cloud_->StopBroker().ok());
    WaitForStatus(daemon, "offline", absl::Seconds(15));
    EXPECT_TRUE(cloud_->StartBroker().ok());
    WaitForStatus(daemon, "online", kOnlineWait);
  }

  const bool all_done = testing::WaitFor(
      [&] { return finished.load() == kClients; }, absl::Seconds(60));
  EXPECT_TRUE(all_done) << finished.load() << " of " << kClients
                        << " clients finished";
  for (std::thread& t : clients) t.join();  // every call has a deadline
  const absl::Duration took = absl::Now() - started;

  int total = 0;
  for (const auto& [code, count] : codes) total += count;
  EXPECT_EQ(total, kClients * kCallsPerClient);
  EXPECT_TRUE(unexpected.empty())
      << unexpected.size() << " unexpected answers, first: "
      << (unexpected.empty() ? "" : unexpected.front());

  const int64_t rss_after = RssKib(pid);
  std::cout << "cloudlinkd VmRSS before " << rss_before << " KiB, after "
            << rss_after << " KiB (" << (rss_after - rss_before)
            << " KiB); 1000 calls took " << absl::FormatDuration(took) << "\n";
  RecordProperty("rss_before_kib", std::to_string(rss_before));
  RecordProperty("rss_after_kib", std::to_string(rss_after));
  EXPECT_LT(rss_after - rss_before, kRssGrowthBoundKib);
  const json state = WaitForStatus(daemon, "online", kOnlineWait);
  EXPECT_EQ(state.value("claimed_id", ""), claimed_id);
}

}  // namespace
}  // namespace cloudlink::integration

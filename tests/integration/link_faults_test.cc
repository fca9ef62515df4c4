// The cloud link end to end under faults: the real dev cloud
// with small backoff values (base 2, 1..4 s), the real cloudlinkd and
// cloudlinkctl. The broker going away (offline with a reason, jittered
// backoff within the cloud's bounds, back online), a proxy refusing the
// node's credentials, TLS verification without the cloud's CA (and
// `insecure` accepting it), the cloud's retry advice (errorRetryDelaySeconds,
// 429 Retry-After, errorNonRetryable → banned), and DisconnectReq (reconnect
// delay, permaban) with ReloadClaimingState lifting a ban.

#include <sys/stat.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/config/ini_file.h"
#include "tests/integration/link_test_base.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kEnvPath[] = "/api/v1/env";
// How long a banned node is watched for (absent) login attempts; several
// times the 1..4 s backoff a node that ignored its ban would use.
constexpr absl::Duration kBanWatch = absl::Seconds(5);
// Slack between the daemon's wall-clock stamps and its monotonic waits.
constexpr absl::Duration kClockSlack = absl::Milliseconds(100);

class LinkFaultsTest : public LinkTestBase {
 protected:
  // A daemon with a claimed node that is online; nullptr (with a failure)
  // otherwise. `claimed_id` receives the claim id.
  CloudlinkdProcess* OnlineNode(std::string* claimed_id) {
    CloudlinkdProcess* daemon = StartDaemon();
    if (daemon == nullptr) return nullptr;
    *claimed_id = Claim(daemon, "none");
    const json state = WaitForStatus(daemon, "online");
    if (state.value("status", "") != "online") return nullptr;
    return daemon;
  }

  // Sets `proxy` in the daemon's cloud.d/cloud.conf (keeping its mode 0600),
  // as an operator editing the stored claim would.
  void SetStoredProxy(CloudlinkdProcess* daemon, const std::string& proxy) {
    const std::string path = daemon->lib_dir() + "/cloud.d/cloud.conf";
    const std::string text = testing::ReadFileOrEmpty(path);
    ASSERT_FALSE(text.empty()) << path;
    absl::StatusOr<std::string> updated =
        config::SetIniValue(text, path, "global", "proxy", proxy);
    ASSERT_TRUE(updated.ok()) << updated.status();
    ASSERT_TRUE(testing::WriteFile(path, *updated).ok());
    ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  }

  // Checks for `watch` that the node stays banned and makes no env request
  // (a bounded look for something that must not happen).
  void ExpectStaysBanned(CloudlinkdProcess* daemon) {
    const int before = Requests(kEnvPath);
    absl::StatusOr<json> changed = daemon->WaitForState(
        [](const json& s) { return s.value("status", "") != "banned"; },
        kBanWatch);
    ASSERT_TRUE(changed.ok()) << changed.status();
    EXPECT_EQ(changed->value("status", ""), "banned") << changed->dump(2);
    EXPECT_EQ(StateTime((*changed)["next_attempt"]), absl::InfinitePast())
        << changed->dump(2);
    EXPECT_EQ(Requests(kEnvPath), before) << "a banned node logged in";
  }

  // `cloudlinkctl reload-claiming-state` lifts the ban: online again.
  void ExpectReloadBringsItBack(CloudlinkdProcess* daemon) {
    const testing::RunResult reloaded =
        daemon->Ctl({"reload-claiming-state"}, absl::Seconds(20));
    EXPECT_EQ(reloaded.exit_code, 0)
        << reloaded.out << reloaded.err << Diagnostics(daemon);
    const json state = WaitForStatus(daemon, "online");
    EXPECT_EQ(state.value("reason", "?"), "");
  }

  // Arms a fault carrying retry advice (through `arm`), restarts the daemon
  // (whose first login attempt then fails) and checks that the state shows
  // `reason` (a prefix) and the advised wait, that it does not try again
  // before `delay`, and that it then goes online.
  void ExpectRetryAdviceHonoured(const std::function<absl::Status()>& arm,
                                 const std::string& reason,
                                 absl::Duration delay) {
    std::string claimed_id;
    CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
    ASSERT_NE(daemon, nullptr);
    ASSERT_TRUE(daemon->Stop().ok());
    const int env_before = Requests(kEnvPath);
    ASSERT_TRUE(arm().ok());
    const absl::Time started = absl::Now();
    ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());

    // The failed attempt: offline with the cloud's error and a wait that
    // honours the advice (without it the first backoff would be 1 s).
    absl::StatusOr<json> failed = daemon->WaitForState(
        [](const json& s) {
          return StateTime(s["next_attempt"]) != absl::InfinitePast();
        },
        absl::Seconds(15));
    ASSERT_TRUE(failed.ok()) << failed.status();
    ASSERT_NE(StateTime((*failed)["next_attempt"]), absl::InfinitePast())
        << failed->dump(2) << Diagnostics(daemon);
    EXPECT_EQ(failed->value("status", ""), "offline");
    EXPECT_THAT(failed->value("reason", ""), StartsWith(reason + ":"))
        << failed->dump(2);
    EXPECT_GE(StateDuration((*failed)["last_backoff"]), delay)
        << failed->dump(2);
    const absl::Time next_attempt = StateTime((*failed)["next_attempt"]);
    EXPECT_GE(next_attempt, started + delay);
    EXPECT_EQ(Requests(kEnvPath), env_before + 1);

    // The retry happens at next_attempt, not before, and succeeds.
    const json online = WaitForStatus(daemon, "online", delay + kOnlineWait);
    EXPECT_GE(StateTime(online["last_connect"]), next_attempt - kClockSlack)
        << online.dump(2);
    EXPECT_EQ(Requests(kEnvPath), env_before + 2);
    EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
  }
};

// ---- The broker goes away ---------------------------------------------------

TEST_F(LinkFaultsTest, BrokerDownBacksOffWithJitterThenReconnects) {
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);
  const absl::Time online_at = StateTime((*daemon->State())["last_connect"]);

  ASSERT_TRUE(cloud_->StopBroker().ok());

  // Offline with a reason, a next attempt and backoff values drawn within
  // the cloud's 1..4 s; at least two different ones (jitter, growth).
  std::set<absl::Duration> backoffs;
  json last;
  absl::StatusOr<json> state = daemon->WaitForState(
      [&](const json& s) {
        last = s;
        if (s.value("status", "") != "offline") return false;
        EXPECT_FALSE(s.value("online", true));
        EXPECT_FALSE(s.value("reason", "").empty()) << s.dump(2);
        EXPECT_GT(StateTime(s["last_disconnect"]), online_at) << s.dump(2);
        const absl::Duration backoff = StateDuration(s["last_backoff"]);
        if (StateTime(s["next_attempt"]) != absl::InfinitePast()) {
          EXPECT_GE(backoff, absl::Seconds(kBackoffMinSeconds)) << s.dump(2);
          EXPECT_LE(backoff, absl::Seconds(kBackoffMaxSeconds)) << s.dump(2);
          EXPECT_GT(StateTime(s["next_attempt"]),
                    StateTime(s["last_disconnect"]))
              << s.dump(2);
          backoffs.insert(backoff);
        }
        return backoffs.size() >= 2;
      },
      absl::Seconds(30));
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_GE(backoffs.size(), 2u) << last.dump(2) << Diagnostics(daemon);

  ASSERT_TRUE(cloud_->StartBroker().ok());
  const json online = WaitForStatus(
      daemon, "online", absl::Seconds(kBackoffMaxSeconds) + kOnlineWait);
  EXPECT_GE(ReconnectCount(online), 1) << online.dump(2);
  EXPECT_NE(StateTime(online["last_disconnect"]), absl::InfinitePast());
  EXPECT_GT(StateTime(online["last_connect"]),
            StateTime(online["last_disconnect"]));
  EXPECT_EQ(StateTime(online["next_attempt"]), absl::InfinitePast());
  // No check of the dev cloud's listing here: its subscriber loses its
  // (clean) session with the broker and resubscribes only 1-2 s after the
  // restart, so the node's reachable=true may come before it listens.
}

// ---- A proxy that refuses the node ------------------------------------------

TEST_F(LinkFaultsTest, WrongProxyPasswordKeepsTheLinkOfflineWithProxyAuth) {
  ProxyProcess* proxy =
      StartProxy(ProxyKind::kTinyproxy, "linker", NewProxyPassword());
  ASSERT_NE(proxy, nullptr);
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);
  // The claim cannot go through a proxy with a wrong password, so the
  // stored claim gets it afterwards.
  ASSERT_TRUE(daemon->Stop().ok());
  SetStoredProxy(
      daemon, proxy->UrlWithCredentials("http", "linker", NewProxyPassword()));
  const int env_before = Requests(kEnvPath);
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());

  absl::StatusOr<json> state = daemon->WaitForState(
      [](const json& s) {
        return absl::StartsWith(s.value("reason", ""), "PROXY_AUTH");
      },
      absl::Seconds(15));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(state->value("reason", ""), StartsWith("PROXY_AUTH:"))
      << state->dump(2) << Diagnostics(daemon);
  EXPECT_EQ(state->value("status", ""), "offline");
  // The state shows the proxy with its password redacted.
  EXPECT_EQ(state->value("proxy", ""),
            absl::StrCat("http://linker:****@127.0.0.1:", proxy->port()));
  // It keeps trying on its backoff, never online, and nothing reaches the
  // cloud past the proxy.
  absl::StatusOr<json> later = daemon->WaitForState(
      [](const json& s) { return s.value("online", false); },
      absl::Seconds(kBackoffMaxSeconds));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_FALSE(later->value("online", true)) << later->dump(2);
  EXPECT_EQ(Requests(kEnvPath), env_before);
}

// ---- TLS verification -------------------------------------------------------

TEST_F(LinkFaultsTest, WithoutTheCloudCaTheLinkFailsTlsVerification) {
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);
  const int env_before = Requests(kEnvPath);

  // Claimed with verification on; now the daemon trusts only the system's
  // CAs, which never signed the dev cloud's certificate.
  ASSERT_TRUE(daemon->Restart(CloudlinkdOptions()).ok());
  absl::StatusOr<json> state = daemon->WaitForState(
      [](const json& s) {
        return absl::StartsWith(s.value("reason", ""), "TLS_VERIFY_FAILED");
      },
      absl::Seconds(15));
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_THAT(state->value("reason", ""), StartsWith("TLS_VERIFY_FAILED:"))
      << state->dump(2) << Diagnostics(daemon);
  EXPECT_EQ(state->value("status", ""), "offline");
  EXPECT_FALSE(state->value("insecure", true));

  // Never online within a few backoff rounds, and no request got through.
  absl::StatusOr<json> later = daemon->WaitForState(
      [](const json& s) { return s.value("online", false); },
      absl::Seconds(kBackoffMaxSeconds));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_FALSE(later->value("online", true)) << later->dump(2);
  EXPECT_EQ(Requests(kEnvPath), env_before);
  EXPECT_TRUE(WaitForListedState(claimed_id, "offline"));
}

TEST_F(LinkFaultsTest, InsecureClaimGoesOnlineWithoutTheCloudCa) {
  CloudlinkdProcess* daemon = StartDaemon(CloudlinkdOptions());
  ASSERT_NE(daemon, nullptr);

  const std::string claimed_id = Claim(daemon, "none", "", {"--insecure"});
  const json state = WaitForStatus(daemon, "online");
  EXPECT_TRUE(state.value("insecure", false)) << state.dump(2);
  EXPECT_EQ(state.value("mqtt_version", 0), 5);
  EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
}

// ---- The cloud's retry advice -----------------------------------------------

TEST_F(LinkFaultsTest, ErrorRetryDelaySecondsDelaysTheNextAttempt) {
  ExpectRetryAdviceHonoured(
      [&] {
        return cloud_->ArmLoginError({{"count", 1},
                                      {"status", 503},
                                      {"errorCode", "maintenance"},
                                      {"errorMsgKey", "ErrMaintenance"},
                                      {"errorMessage", "back soon"},
                                      {"errorRetryDelaySeconds", 3}});
      },
      "ENV_FAILED", absl::Seconds(3));
}

TEST_F(LinkFaultsTest, ErrorRetryDelaySecondsFromTheLoginStepToo) {
  // The env call succeeds; the challenge fails with the advice.
  ExpectRetryAdviceHonoured(
      [&] {
        return cloud_->ArmFault({{"pathPrefix", "/api/v1/auth/node/"},
                                 {"status", 503},
                                 {"count", 1},
                                 {"body",
                                  {{"errorCode", "maintenance"},
                                   {"errorMsgKey", "ErrMaintenance"},
                                   {"errorMessage", "back soon"},
                                   {"errorRetryDelaySeconds", 3}}}});
      },
      "LOGIN_FAILED", absl::Seconds(3));
}

TEST_F(LinkFaultsTest, TooManyRequestsHonoursRetryAfter) {
  ExpectRetryAdviceHonoured(
      [&] {
        return cloud_->ArmLoginError({{"count", 1},
                                      {"status", 429},
                                      {"errorCode", "too-many-requests"},
                                      {"errorMsgKey", "ErrTooManyRequests"},
                                      {"errorMessage", "slow down"},
                                      {"headers", {{"Retry-After", "3"}}}});
      },
      "ENV_FAILED", absl::Seconds(3));
}

// A cloud whose backoff floor (3 s) is above the built-in default's (1 s).
class LinkCloudBackoffTest : public LinkFaultsTest {
 protected:
  LinkCloudBackoffTest() { cloud_backoff_ = {2, 3, 6}; }
};

TEST_F(LinkCloudBackoffTest, LoginFailureBacksOffWithTheEnvValues) {
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(daemon->Stop().ok());
  // The env call of the fresh daemon succeeds and hands out the backoff;
  // the challenge then fails without any retry advice.
  ASSERT_TRUE(cloud_
                  ->ArmFault({{"pathPrefix", "/api/v1/auth/node/"},
                              {"status", 503},
                              {"count", 1}})
                  .ok());
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());

  absl::StatusOr<json> failed = daemon->WaitForState(
      [](const json& s) {
        return StateTime(s["next_attempt"]) != absl::InfinitePast();
      },
      absl::Seconds(15));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_THAT(failed->value("reason", ""), StartsWith("LOGIN_FAILED:"))
      << failed->dump(2);
  const absl::Duration backoff = StateDuration((*failed)["last_backoff"]);
  EXPECT_GE(backoff, absl::Seconds(3)) << failed->dump(2);
  EXPECT_LE(backoff, absl::Seconds(6)) << failed->dump(2);
  WaitForStatus(daemon, "online", absl::Seconds(6) + kOnlineWait);
}

TEST_F(LinkFaultsTest, NonRetryableLoginErrorBansUntilReload) {
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(daemon->Stop().ok());
  ASSERT_TRUE(cloud_
                  ->ArmLoginError({{"count", 1},
                                   {"status", 403},
                                   {"errorCode", "node-blocked"},
                                   {"errorMsgKey", "ErrNodeBlocked"},
                                   {"errorMessage", "blocked by the test"},
                                   {"errorNonRetryable", true}})
                  .ok());
  ASSERT_TRUE(daemon->Restart(TrustingOptions()).ok());

  const json banned = WaitForStatus(daemon, "banned", absl::Seconds(15));
  EXPECT_FALSE(banned.value("online", true));
  EXPECT_THAT(banned.value("reason", ""), StartsWith("BANNED:"))
      << banned.dump(2);
  EXPECT_THAT(banned.value("reason", ""), HasSubstr("ErrNodeBlocked"));
  ExpectStaysBanned(daemon);
  ExpectReloadBringsItBack(daemon);
  EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
}

// ---- DisconnectReq ----------------------------------------------------------

TEST_F(LinkFaultsTest, DisconnectReqDelaysTheReconnect) {
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);

  ASSERT_TRUE(
      cloud_
          ->DisconnectNode(claimed_id, {{"reconnectAfterSeconds", 3},
                                        {"errorCode", 7},
                                        {"errorDescription", "maintenance"}})
          .ok());

  absl::StatusOr<json> offline = daemon->WaitForState(
      [](const json& s) {
        return s.value("status", "") == "offline" &&
               StateTime(s["next_attempt"]) != absl::InfinitePast();
      },
      absl::Seconds(10));
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_THAT(offline->value("reason", ""), StartsWith("CLOUD_DISCONNECT:"))
      << offline->dump(2) << Diagnostics(daemon);
  const absl::Time disconnected = StateTime((*offline)["last_disconnect"]);
  ASSERT_NE(disconnected, absl::InfinitePast()) << offline->dump(2);
  EXPECT_GE(StateTime((*offline)["next_attempt"]),
            disconnected + absl::Seconds(3))
      << offline->dump(2);
  // It left politely: its own reachable=false.
  EXPECT_TRUE(WaitForAgentConnection(claimed_id, false, kSourceAgent));

  const json online = WaitForStatus(daemon, "online", absl::Seconds(15));
  EXPECT_GE(StateTime(online["last_connect"]),
            disconnected + absl::Seconds(3) - kClockSlack)
      << online.dump(2);
  EXPECT_GE(ReconnectCount(online), 1) << online.dump(2);
  EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
}

TEST_F(LinkFaultsTest, DisconnectReqPermabanBansUntilReload) {
  std::string claimed_id;
  CloudlinkdProcess* daemon = OnlineNode(&claimed_id);
  ASSERT_NE(daemon, nullptr);

  ASSERT_TRUE(cloud_
                  ->DisconnectNode(claimed_id, {{"permaban", true},
                                                {"errorCode", 9},
                                                {"errorDescription", "abuse"}})
                  .ok());

  const json banned = WaitForStatus(daemon, "banned", absl::Seconds(10));
  EXPECT_THAT(banned.value("reason", ""), StartsWith("BANNED:"))
      << banned.dump(2);
  EXPECT_FALSE(banned.value("online", true));
  EXPECT_TRUE(WaitForListedState(claimed_id, "offline"));
  ExpectStaysBanned(daemon);
  ExpectReloadBringsItBack(daemon);
  EXPECT_TRUE(WaitForListedState(claimed_id, "online"));
}

}  // namespace
}  // namespace cloudlink::integration

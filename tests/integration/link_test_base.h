#pragma once

// Shared fixture of the cloud link integration tests (link_test.cc,
// link_faults_test.cc): the real dev cloud with small backoff values (base
// 2, 1 s .. 4 s unless the fixture says otherwise, so reconnects take
// seconds), real cloudlinkd daemons and
// real proxies, plus the checks every link test needs: claim and wait until
// online, read the dev cloud's view of the node (its listing and the
// UpdateAgentConnection messages its subscriber saw), and parse GetState's
// times.
//
// TearDown checks that no claim token, admin API token or proxy password
// reached any daemon's log or any cloudlinkctl output.
//
// Not thread-safe: one test thread.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/integration/fixtures/proxy_process.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {

// The backoff the dev cloud hands out in these tests (seconds).
inline constexpr int kBackoffBase = 2;
inline constexpr int kBackoffMinSeconds = 1;
inline constexpr int kBackoffMaxSeconds = 4;

// How long a node may take from claim (or daemon start) to online.
inline constexpr absl::Duration kOnlineWait = absl::Seconds(20);

// GetState's reconnect_count (a JSON string for uint64), -1 when absent.
int64_t ReconnectCount(const nlohmann::json& state);

// The UpdateAgentConnection messages among the dev cloud's `messages` for a
// node, oldest first, as their decoded `fields`.
std::vector<nlohmann::json> AgentConnections(const nlohmann::json& messages);
// Whether `connections` has one with `reachable` and the update source
// ("CONNECTION_UPDATE_SOURCE_AGENT" / "..._LWT").
bool HasAgentConnection(const std::vector<nlohmann::json>& connections,
                        bool reachable, const std::string& update_source);

inline constexpr char kSourceAgent[] = "CONNECTION_UPDATE_SOURCE_AGENT";
inline constexpr char kSourceLwt[] = "CONNECTION_UPDATE_SOURCE_LWT";

class LinkTestBase : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A daemon trusting the dev CA (unless `options` says otherwise); nullptr
  // with a test failure when it does not start.
  CloudlinkdProcess* StartDaemon(CloudlinkdOptions options);
  CloudlinkdProcess* StartDaemon();
  // Options for a daemon that trusts the dev CA.
  CloudlinkdOptions TrustingOptions() const;

  // A started proxy whose password joins the redaction check; nullptr with
  // a test failure when it does not start.
  ProxyProcess* StartProxy(ProxyKind kind, const std::string& user = "",
                           const std::string& password = "");
  // A fresh proxy password, remembered for the redaction check.
  std::string NewProxyPassword();

  // `cloudlinkctl --json claim` with Space A's token and rooms through
  // `proxy` at `url` (the dev cloud's own URL when ""); returns the claim id,
  // "" (with a test failure) when the claim fails.
  std::string Claim(CloudlinkdProcess* daemon, const std::string& proxy,
                    const std::string& url = "",
                    std::vector<std::string> extra = {});

  // Waits up to `timeout` for `status` ("online", "offline", "banned") and
  // returns the state; a test failure (and the last state, or an empty
  // object) when it does not come.
  nlohmann::json WaitForStatus(CloudlinkdProcess* daemon,
                               const std::string& status,
                               absl::Duration timeout = kOnlineWait);

  // Polls the dev cloud's messages of `claim_id` until one
  // UpdateAgentConnection has `reachable` and `update_source`; returns
  // whether it came within `timeout`.
  bool WaitForAgentConnection(const std::string& claim_id, bool reachable,
                              const std::string& update_source,
                              absl::Duration timeout = absl::Seconds(10));
  // The UpdateAgentConnection messages of `claim_id` so far (empty with a
  // test failure when the dev cloud does not answer).
  std::vector<nlohmann::json> AgentConnectionsOf(const std::string& claim_id);

  // Polls the node listing of Space A (or B) until `claim_id` has `state`.
  bool WaitForListedState(const std::string& claim_id, const std::string& state,
                          const std::string& space_id = "",
                          absl::Duration timeout = absl::Seconds(10));

  // Requests the dev cloud saw under `path_prefix` ("/api/v1/env"), -1 (with
  // a test failure) when it does not answer.
  int Requests(const std::string& path_prefix);

  // Shows the daemon's log when a test failed.
  std::string Diagnostics(CloudlinkdProcess* daemon) const;

  // The backoff the dev cloud hands out; a fixture may change it in its
  // constructor (SetUp writes it before the dev cloud starts).
  devcloud::BackoffConfig cloud_backoff_{kBackoffBase, kBackoffMinSeconds,
                                         kBackoffMaxSeconds};
  // The broker's max_keepalive (0: mosquitto's default); set likewise.
  int broker_max_keepalive_seconds_ = 0;
  testing::TempDir tmp_;
  std::unique_ptr<DevCloud> cloud_;
  std::vector<std::unique_ptr<CloudlinkdProcess>> daemons_;
  std::vector<std::unique_ptr<ProxyProcess>> proxies_;
  std::vector<std::string> proxy_passwords_;
};

}  // namespace cloudlink::integration

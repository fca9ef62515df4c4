// Claiming end to end: the real dev cloud, the real cloudlinkd and
// cloudlinkctl, and real proxies (tinyproxy, microsocks, dante). Covers
// claiming: direct and proxied claims (HTTP CONNECT with and without Basic
// auth, SOCKS5 with local and proxy-side name resolution, `env`), TLS
// verification, every HTTP result of the claim table through the dev cloud's
// fault switches, reclaiming, token regeneration, and that no secret ever
// reaches the daemon's log or the CLI's output.

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/uuid.h"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/integration/fixtures/proxy_process.h"
#include "tests/testing/test_env.h"
#include "tools/devcloud/certificates.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr absl::Duration kTunnelLogWait = absl::Seconds(5);

// The node in a `GET /api/v1/spaces/{id}/nodes` answer with this machine
// GUID, or null.
json NodeWithMachineGuid(const json& nodes, const std::string& guid) {
  if (!nodes.is_array()) return nullptr;
  for (const json& node : nodes) {
    if (node.value("machineGuid", "") == guid) return node;
  }
  return nullptr;
}

std::vector<std::string> SplitRooms(const std::string& rooms) {
  return absl::StrSplit(rooms, ',', absl::SkipEmpty());
}

json ParseJson(const std::string& text) {
  return json::parse(text, nullptr, false);
}

class ClaimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cloud = DevCloud::Start(tmp_.Join("cloud"));
    ASSERT_TRUE(cloud.ok()) << cloud.status();
    cloud_ = *std::move(cloud);
  }

  // Every test ends with the redaction check: no claim
  // token, admin API token or proxy password in any daemon's stdout/stderr
  // or in any recorded cloudlinkctl output.
  void TearDown() override {
    if (cloud_ == nullptr) return;
    ASSERT_TRUE(cloud_->ReloadEnv().ok());
    std::vector<std::string> secrets = cloud_->Secrets();
    secrets.insert(secrets.end(), proxy_passwords_.begin(),
                   proxy_passwords_.end());
    for (const auto& daemon : daemons_) {
      const std::string outputs[] = {daemon->Stderr(), daemon->Stdout(),
                                     daemon->transcript()};
      const char* names[] = {"daemon stderr", "daemon stdout",
                             "cloudlinkctl output"};
      for (int i = 0; i < 3; ++i) {
        for (const std::string& secret : secrets) {
          ASSERT_FALSE(secret.empty());
          EXPECT_THAT(outputs[i], Not(HasSubstr(secret)))
              << "a secret appears in the " << names[i];
        }
      }
    }
  }

  // Starts a daemon trusting the dev CA unless `options` says otherwise.
  // nullptr (with a test failure) when it does not start.
  CloudlinkdProcess* StartDaemon(CloudlinkdOptions options) {
    auto daemon = CloudlinkdProcess::Start(std::move(options));
    EXPECT_TRUE(daemon.ok()) << daemon.status();
    if (!daemon.ok()) return nullptr;
    daemons_.push_back(*std::move(daemon));
    return daemons_.back().get();
  }
  CloudlinkdProcess* StartDaemon() {
    CloudlinkdOptions options;
    options.cloud_ca = cloud_->ca_path();
    return StartDaemon(std::move(options));
  }

  // A started proxy whose password joins the redaction check; nullptr (with
  // a test failure) when it does not start.
  ProxyProcess* StartProxy(ProxyKind kind, const std::string& user = "",
                           const std::string& password = "") {
    ProxyOptions options;
    options.kind = kind;
    options.user = user;
    options.password = password;
    if (!password.empty()) proxy_passwords_.push_back(password);
    auto proxy = ProxyProcess::Start(options);
    EXPECT_TRUE(proxy.ok()) << proxy.status();
    if (!proxy.ok()) return nullptr;
    proxies_.push_back(*std::move(proxy));
    return proxies_.back().get();
  }

  // A proxy password nobody would type by accident, unique per call.
  std::string NewProxyPassword() {
    return absl::StrCat("pw-", NewUuidV4().substr(0, 13));
  }

  // `cloudlinkctl --json claim` with Space A's token and rooms.
  testing::RunResult ClaimWith(CloudlinkdProcess* daemon,
                               const std::string& url, const std::string& proxy,
                               std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--json",  "claim",
                                     "--token", cloud_->Env("CLAIM_TOKEN"),
                                     "--rooms", cloud_->Env("ROOMS"),
                                     "--url",   url,
                                     "--proxy", proxy};
    args.insert(args.end(), extra.begin(), extra.end());
    return daemon->Ctl(args);
  }

  int ClaimRequests() {
    absl::StatusOr<int> count =
        cloud_->RequestCount(DevCloud::kClaimPathPrefix);
    EXPECT_TRUE(count.ok()) << count.status();
    return count.ok() ? *count : -1;
  }

  // Checks a successful claim answer and that the node is stored and listed
  // in Space A; returns the claim id.
  std::string ExpectClaimed(CloudlinkdProcess* daemon,
                            const testing::RunResult& result) {
    EXPECT_EQ(result.exit_code, 0) << result.err << daemon->Stderr();
    const json answer = ParseJson(result.out);
    EXPECT_TRUE(answer.is_object()) << result.out;
    if (!answer.is_object()) return "";
    const std::string claimed_id = answer.value("claimed_id", "");
    EXPECT_TRUE(IsUuid(claimed_id)) << result.out;
    EXPECT_FALSE(answer.value("already_claimed", true));
    EXPECT_TRUE(answer["state"].value("claimed", false)) << result.out;
    EXPECT_EQ(answer["state"].value("claimed_id", ""), claimed_id);
    EXPECT_EQ(daemon->ClaimedIdFile(), claimed_id);
    absl::StatusOr<json> nodes = cloud_->ListNodes(
        cloud_->Env("SPACE_ID"), cloud_->Env("ADMIN_API_TOKEN"));
    EXPECT_TRUE(nodes.ok()) << nodes.status();
    if (nodes.ok()) {
      EXPECT_FALSE(
          NodeWithMachineGuid(*nodes, daemon->MachineGuidFile()).is_null())
          << nodes->dump();
    }
    return claimed_id;
  }

  // Checks a failed claim: exit code 1, `reason` in the CLI's error and at
  // the start of the state's reason, and the node left unclaimed.
  void ExpectClaimFailed(CloudlinkdProcess* daemon,
                         const testing::RunResult& result,
                         const std::string& reason) {
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_THAT(result.err, HasSubstr(reason + ":"));
    absl::StatusOr<json> state = daemon->State();
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_FALSE((*state)["claimed"].get<bool>());
    EXPECT_THAT((*state)["reason"].get<std::string>(),
                StartsWith(reason + ":"));
    EXPECT_EQ(daemon->ClaimedIdFile(), "");
    // One CLAIM: line per failed attempt, with the reason.
    EXPECT_THAT(daemon->Stderr(), HasSubstr("CLAIM: "));
    EXPECT_THAT(daemon->Stderr(), HasSubstr(reason));
  }

  // Arms a fault on the claim API for the next `count` requests.
  void ArmClaimFault(int status, int count, const json& body = json::object()) {
    json rule = {{"pathPrefix", DevCloud::kClaimPathPrefix},
                 {"status", status},
                 {"count", count}};
    if (!body.empty()) rule["body"] = body;
    absl::Status armed = cloud_->ArmFault(rule);
    ASSERT_TRUE(armed.ok()) << armed;
  }

  testing::TempDir tmp_;
  std::unique_ptr<DevCloud> cloud_;
  std::vector<std::unique_ptr<CloudlinkdProcess>> daemons_;
  std::vector<std::unique_ptr<ProxyProcess>> proxies_;
  std::vector<std::string> proxy_passwords_;
};

// ---- Direct, verified TLS --------------------------------------------------

TEST_F(ClaimTest, ClaimsDirectlyWithVerifiedTlsAndIsIdempotent) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const int before = ClaimRequests();

  const testing::RunResult result = ClaimWith(daemon, cloud_->url(), "none");
  const std::string claimed_id = ExpectClaimed(daemon, result);
  EXPECT_EQ(ClaimRequests(), before + 1);
  const json state = ParseJson(result.out)["state"];
  EXPECT_EQ(state.value("url", ""), cloud_->url());
  EXPECT_EQ(state["rooms"].get<std::vector<std::string>>(),
            SplitRooms(cloud_->Env("ROOMS")));
  EXPECT_FALSE(state.value("insecure", true));
  EXPECT_EQ(testing::FileMode(daemon->lib_dir() + "/cloud.d/cloud.conf"), 0600);

  absl::StatusOr<json> nodes = cloud_->ListNodes(
      cloud_->Env("SPACE_ID"), cloud_->Env("ADMIN_API_TOKEN"));
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  const json node = NodeWithMachineGuid(*nodes, daemon->MachineGuidFile());
  ASSERT_FALSE(node.is_null()) << nodes->dump();
  EXPECT_EQ(node["rooms"].get<std::vector<std::string>>(),
            SplitRooms(cloud_->Env("ROOMS")));

  // The same token and url again: OK, already claimed, nothing sent.
  const testing::RunResult again = ClaimWith(daemon, cloud_->url(), "none");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const json answer = ParseJson(again.out);
  EXPECT_TRUE(answer.value("already_claimed", false)) << again.out;
  EXPECT_EQ(answer.value("claimed_id", ""), claimed_id);
  EXPECT_EQ(ClaimRequests(), before + 1);
}

// ---- HTTP CONNECT proxy (tinyproxy)
// ------------------------------------------

TEST_F(ClaimTest, ClaimsThroughTinyproxy) {
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  const testing::RunResult result =
      ClaimWith(daemon, cloud_->url(), proxy->Url("http"));
  ExpectClaimed(daemon, result);
  EXPECT_TRUE(
      proxy->WaitForTunnelTo("127.0.0.1", cloud_->port(), kTunnelLogWait))
      << proxy->Log();
  EXPECT_EQ(ParseJson(result.out)["state"].value("proxy", ""),
            proxy->Url("http"));
}

TEST_F(ClaimTest, ClaimsThroughTinyproxyWithBasicAuth) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "claimer", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  const testing::RunResult result =
      ClaimWith(daemon, cloud_->url(), proxy->Url("http"));
  ExpectClaimed(daemon, result);
  EXPECT_TRUE(
      proxy->WaitForTunnelTo("127.0.0.1", cloud_->port(), kTunnelLogWait))
      << proxy->Log();
  // GetState shows the proxy with the password redacted.
  EXPECT_EQ(ParseJson(result.out)["state"].value("proxy", ""),
            absl::StrCat("http://claimer:****@127.0.0.1:", proxy->port()));
}

TEST_F(ClaimTest, TinyproxyWrongPasswordIsProxyAuth) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "claimer", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string wrong = NewProxyPassword();
  proxy_passwords_.push_back(wrong);
  const int before = ClaimRequests();

  const testing::RunResult result =
      ClaimWith(daemon, cloud_->url(),
                proxy->UrlWithCredentials("http", "claimer", wrong));
  ExpectClaimFailed(daemon, result, "PROXY_AUTH");
  EXPECT_EQ(ClaimRequests(), before) << "nothing may reach the cloud";
  // The CLAIM: line names the proxy with its password redacted.
  EXPECT_THAT(daemon->Stderr(), HasSubstr(absl::StrCat(
                                    "claimer:****@127.0.0.1:", proxy->port())));
}

// ---- The proxy from the daemon's environment
// ---------------------------------

TEST_F(ClaimTest, ClaimsThroughHttpProxyFromEnvironment) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "envuser", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  options.env["http_proxy"] = proxy->Url("http");
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);

  ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), "env"));
  EXPECT_TRUE(
      proxy->WaitForTunnelTo("127.0.0.1", cloud_->port(), kTunnelLogWait))
      << proxy->Log();
}

TEST_F(ClaimTest, ProxyNoneIgnoresTheEnvironment) {
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  options.env["http_proxy"] = proxy->Url("http");
  options.env["https_proxy"] = proxy->Url("http");
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);

  ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), "none"));
  EXPECT_FALSE(proxy->SawTunnelTo("127.0.0.1", cloud_->port())) << proxy->Log();
}

// An explicit proxy applies to every host: no_proxy in the daemon's
// environment (which curl would read on its own) does not exempt the cloud.
TEST_F(ClaimTest, NoProxyInTheEnvironmentDoesNotBypassAnExplicitProxy) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kTinyproxy, "claimer", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  options.env["no_proxy"] = "127.0.0.1,localhost,*";
  options.env["NO_PROXY"] = "127.0.0.1,localhost,*";
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);

  ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), proxy->Url("http")));
  EXPECT_TRUE(
      proxy->WaitForTunnelTo("127.0.0.1", cloud_->port(), kTunnelLogWait))
      << proxy->Log();
}

// A control character in the proxy's user name is refused before anything
// is sent (it used to make curl drop the proxy and go direct).
TEST_F(ClaimTest, AControlCharacterInTheProxyUserIsRefused) {
  ProxyProcess* proxy = StartProxy(ProxyKind::kDante);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const int before = ClaimRequests();
  const testing::RunResult result =
      ClaimWith(daemon, cloud_->url(),
                absl::StrCat("socks5h://us%01er:pw@127.0.0.1:", proxy->port()));
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("PROXY_INVALID:"));
  EXPECT_THAT(result.err, HasSubstr("control character"));
  EXPECT_EQ(ClaimRequests(), before) << "nothing may reach the cloud";
  EXPECT_EQ(daemon->ClaimedIdFile(), "");
}

// ---- SOCKS5 (microsocks, dante)
// -----------------------------------------------

struct SocksCase {
  ProxyKind kind;
  const char* scheme;  // socks5 (the node resolves) or socks5h (the proxy does)
};

class ClaimThroughSocksTest : public ClaimTest,
                              public ::testing::WithParamInterface<SocksCase> {
};

TEST_P(ClaimThroughSocksTest, Claims) {
  const SocksCase param = GetParam();
  ProxyProcess* proxy = StartProxy(param.kind);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const bool proxy_resolves = std::string(param.scheme) == "socks5h";
  // With socks5h the cloud is named by host name, which only the proxy
  // resolves; microsocks logs the name it was given, dante the address.
  const std::string url =
      proxy_resolves ? cloud_->UrlWithHost("localhost") : cloud_->url();
  const std::string logged_host =
      proxy_resolves && param.kind == ProxyKind::kMicrosocks ? "localhost"
                                                             : "127.0.0.1";

  ExpectClaimed(daemon, ClaimWith(daemon, url, proxy->Url(param.scheme)));
  EXPECT_TRUE(
      proxy->WaitForTunnelTo(logged_host, cloud_->port(), kTunnelLogWait))
      << proxy->Log();
}

INSTANTIATE_TEST_SUITE_P(
    Proxies, ClaimThroughSocksTest,
    ::testing::Values(SocksCase{ProxyKind::kMicrosocks, "socks5"},
                      SocksCase{ProxyKind::kMicrosocks, "socks5h"},
                      SocksCase{ProxyKind::kDante, "socks5"},
                      SocksCase{ProxyKind::kDante, "socks5h"}),
    [](const ::testing::TestParamInfo<SocksCase>& info) {
      return absl::StrCat(ProxyKindName(info.param.kind), "_",
                          info.param.scheme);
    });

TEST_F(ClaimTest, ClaimsThroughMicrosocksWithCredentials) {
  const std::string password = NewProxyPassword();
  ProxyProcess* proxy = StartProxy(ProxyKind::kMicrosocks, "sockser", password);
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  const testing::RunResult result = ClaimWith(
      daemon, cloud_->UrlWithHost("localhost"), proxy->Url("socks5h"));
  ExpectClaimed(daemon, result);
  EXPECT_TRUE(
      proxy->WaitForTunnelTo("localhost", cloud_->port(), kTunnelLogWait))
      << proxy->Log();
  EXPECT_EQ(ParseJson(result.out)["state"].value("proxy", ""),
            absl::StrCat("socks5h://sockser:****@127.0.0.1:", proxy->port()));
}

TEST_F(ClaimTest, MicrosocksWrongPasswordIsProxyAuth) {
  ProxyProcess* proxy =
      StartProxy(ProxyKind::kMicrosocks, "sockser", NewProxyPassword());
  ASSERT_NE(proxy, nullptr);
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string wrong = NewProxyPassword();
  proxy_passwords_.push_back(wrong);
  const int before = ClaimRequests();

  ExpectClaimFailed(
      daemon,
      ClaimWith(daemon, cloud_->url(),
                proxy->UrlWithCredentials("socks5", "sockser", wrong)),
      "PROXY_AUTH");
  EXPECT_EQ(ClaimRequests(), before);
}

// ---- TLS verification
// ----------------------------------------------------------

TEST_F(ClaimTest, WithoutCloudCaTlsVerificationFails) {
  CloudlinkdProcess* daemon = StartDaemon(CloudlinkdOptions());
  ASSERT_NE(daemon, nullptr);
  const int before = ClaimRequests();

  ExpectClaimFailed(daemon, ClaimWith(daemon, cloud_->url(), "none"),
                    "TLS_VERIFY_FAILED");
  EXPECT_EQ(ClaimRequests(), before);
}

TEST_F(ClaimTest, WithWrongCloudCaTlsVerificationFails) {
  // Another dev CA: valid, but not the one that signed this cloud.
  ASSERT_EQ(mkdir(tmp_.Join("other-ca").c_str(), 0700), 0);
  absl::StatusOr<devcloud::CertificateFiles> other =
      devcloud::EnsureCertificates(tmp_.Join("other-ca"));
  ASSERT_TRUE(other.ok()) << other.status();
  CloudlinkdOptions options;
  options.cloud_ca = other->ca_cert;
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);

  ExpectClaimFailed(daemon, ClaimWith(daemon, cloud_->url(), "none"),
                    "TLS_VERIFY_FAILED");
}

TEST_F(ClaimTest, InsecureClaimsWithoutCloudCa) {
  CloudlinkdProcess* daemon = StartDaemon(CloudlinkdOptions());
  ASSERT_NE(daemon, nullptr);

  const testing::RunResult result =
      ClaimWith(daemon, cloud_->url(), "none", {"--insecure"});
  ExpectClaimed(daemon, result);
  EXPECT_TRUE(ParseJson(result.out)["state"].value("insecure", false));
}

// ---- HTTP results (dev cloud fault switches)
// ------------------------------------

TEST_F(ClaimTest, RetriesServiceUnavailableWithFreshClaimIds) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ArmClaimFault(503, 2);
  absl::StatusOr<std::map<std::string, int>> before =
      cloud_->RequestPaths(DevCloud::kClaimPathPrefix);
  ASSERT_TRUE(before.ok()) << before.status();

  const std::string claimed_id =
      ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), "none"));

  absl::StatusOr<std::map<std::string, int>> after =
      cloud_->RequestPaths(DevCloud::kClaimPathPrefix);
  ASSERT_TRUE(after.ok()) << after.status();
  // Three attempts, each with its own claim id; the last one is the claim.
  std::vector<std::string> new_paths;
  for (const auto& [path, count] : *after) {
    if (before->count(path) == 0) {
      EXPECT_EQ(count, 1) << path;
      new_paths.push_back(path);
    }
  }
  EXPECT_EQ(new_paths.size(), 3u) << absl::StrJoin(new_paths, " ");
  EXPECT_EQ(after->count(std::string(DevCloud::kClaimPathPrefix) + claimed_id),
            1u);
  EXPECT_THAT(daemon->Stderr(), HasSubstr("CLOUD_ERROR_503"));
}

TEST_F(ClaimTest, GivesUpAfterFiveUnavailableAttempts) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ArmClaimFault(503, 10);
  const int before = ClaimRequests();

  ExpectClaimFailed(daemon, ClaimWith(daemon, cloud_->url(), "none"),
                    "CLOUD_ERROR_503");
  EXPECT_EQ(ClaimRequests(), before + 5);
  ASSERT_TRUE(cloud_->ClearFaults().ok());
}

TEST_F(ClaimTest, ForbiddenIsTokenInvalidAndNotRetried) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ArmClaimFault(403, 5,
                {{"errorCode", "forbidden"},
                 {"errorMsgKey", "ErrForbidden"},
                 {"errorMessage", "token expired"}});
  const int before = ClaimRequests();

  const testing::RunResult result = ClaimWith(daemon, cloud_->url(), "none");
  ExpectClaimFailed(daemon, result, "TOKEN_INVALID");
  EXPECT_THAT(result.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_EQ(ClaimRequests(), before + 1);
  ASSERT_TRUE(cloud_->ClearFaults().ok());
}

TEST_F(ClaimTest, ConflictIsAlreadyClaimedAndNotRetried) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ArmClaimFault(409, 5);
  const int before = ClaimRequests();

  const testing::RunResult result = ClaimWith(daemon, cloud_->url(), "none");
  ExpectClaimFailed(daemon, result, "ALREADY_CLAIMED");
  EXPECT_THAT(result.err, HasSubstr("ALREADY_EXISTS"));
  EXPECT_EQ(ClaimRequests(), before + 1);
  ASSERT_TRUE(cloud_->ClearFaults().ok());
}

TEST_F(ClaimTest, UnprocessableKeysAreInvalidArgumentAndNotRetried) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::pair<const char*, const char*> cases[] = {
      {"ErrInvalidNodeID", "INVALID_NODE_ID"},
      {"ErrInvalidNodeName", "INVALID_NODE_NAME"},
      {"ErrInvalidRoomID", "INVALID_ROOM_ID"},
      {"ErrInvalidPublicKey", "INVALID_PUBLIC_KEY"},
  };
  for (const auto& [key, reason] : cases) {
    SCOPED_TRACE(key);
    ArmClaimFault(422, 5,
                  {{"errorCode", "unprocessable"},
                   {"errorMsgKey", key},
                   {"errorMessage", "rejected by the test"}});
    const int before = ClaimRequests();
    const testing::RunResult result = ClaimWith(daemon, cloud_->url(), "none");
    ExpectClaimFailed(daemon, result, reason);
    EXPECT_THAT(result.err, HasSubstr("INVALID_ARGUMENT"));
    EXPECT_EQ(ClaimRequests(), before + 1);
    ASSERT_TRUE(cloud_->ClearFaults().ok());
  }
  // With the faults gone the same daemon claims.
  ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), "none"));
}

// ---- Reclaiming
// ------------------------------------------------------------------

TEST_F(ClaimTest, ReclaimMovesTheNodeToAnotherSpace) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string first_id =
      ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), "none"));
  const std::string guid = daemon->MachineGuidFile();
  ASSERT_TRUE(IsUuid(guid));

  const testing::RunResult result = daemon->Ctl(
      {"--json", "reclaim", "--token", cloud_->Env("CLAIM_TOKEN_B"), "--rooms",
       cloud_->Env("ROOMS_B"), "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(result.exit_code, 0) << result.err << daemon->Stderr();
  const json answer = ParseJson(result.out);
  const std::string second_id = answer.value("claimed_id", "");
  EXPECT_TRUE(IsUuid(second_id));
  EXPECT_NE(second_id, first_id);
  EXPECT_EQ(answer.value("machine_guid", ""), guid);
  EXPECT_EQ(daemon->ClaimedIdFile(), second_id);
  EXPECT_EQ(daemon->MachineGuidFile(), guid);

  absl::StatusOr<json> in_b = cloud_->ListNodes(
      cloud_->Env("SPACE_B_ID"), cloud_->Env("ADMIN_API_TOKEN_B"));
  ASSERT_TRUE(in_b.ok()) << in_b.status();
  const json node = NodeWithMachineGuid(*in_b, guid);
  ASSERT_FALSE(node.is_null()) << in_b->dump();
  EXPECT_EQ(node["rooms"].get<std::vector<std::string>>(),
            SplitRooms(cloud_->Env("ROOMS_B")));
  absl::StatusOr<json> in_a = cloud_->ListNodes(cloud_->Env("SPACE_ID"),
                                                cloud_->Env("ADMIN_API_TOKEN"));
  ASSERT_TRUE(in_a.ok()) << in_a.status();
  EXPECT_TRUE(NodeWithMachineGuid(*in_a, guid).is_null()) << in_a->dump();
}

TEST_F(ClaimTest, ReclaimWithNewIdentityChangesTheMachineGuid) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), "none"));
  const std::string old_guid = daemon->MachineGuidFile();

  const testing::RunResult result = daemon->Ctl(
      {"--json", "reclaim", "--new-identity", "--token",
       cloud_->Env("CLAIM_TOKEN"), "--url", cloud_->url(), "--proxy", "none"});
  ASSERT_EQ(result.exit_code, 0) << result.err << daemon->Stderr();
  const json answer = ParseJson(result.out);
  const std::string new_guid = answer.value("machine_guid", "");
  EXPECT_TRUE(IsUuid(new_guid)) << result.out;
  EXPECT_NE(new_guid, old_guid);
  EXPECT_EQ(daemon->MachineGuidFile(), new_guid);
  EXPECT_EQ(answer["state"].value("machine_guid", ""), new_guid);

  absl::StatusOr<json> nodes = cloud_->ListNodes(
      cloud_->Env("SPACE_ID"), cloud_->Env("ADMIN_API_TOKEN"));
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_FALSE(NodeWithMachineGuid(*nodes, new_guid).is_null())
      << nodes->dump();
}

// ---- Token regeneration
// ----------------------------------------------------------

TEST_F(ClaimTest, RegeneratedTokenReplacesTheOldOne) {
  CloudlinkdProcess* daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string old_token = cloud_->Env("CLAIM_TOKEN");

  // The one output that rightly shows a secret: the new token.
  const testing::RunResult regenerated = daemon->CtlUnrecorded(
      {"--json", "regenerate-token", "--space-id", cloud_->Env("SPACE_ID"),
       "--api-token", cloud_->Env("ADMIN_API_TOKEN"), "--url", cloud_->url(),
       "--proxy", "none"});
  ASSERT_EQ(regenerated.exit_code, 0) << regenerated.err << daemon->Stderr();
  const std::string new_token = ParseJson(regenerated.out).value("token", "");
  ASSERT_FALSE(new_token.empty()) << "no token in the answer";
  EXPECT_NE(new_token, old_token);
  ASSERT_TRUE(cloud_->ReloadEnv().ok());
  EXPECT_EQ(cloud_->Env("CLAIM_TOKEN"), new_token);

  // The old token is refused at once...
  const testing::RunResult with_old =
      daemon->Ctl({"claim", "--token", old_token, "--url", cloud_->url(),
                   "--proxy", "none"});
  ExpectClaimFailed(daemon, with_old, "TOKEN_INVALID");
  // ...and the new one claims.
  ExpectClaimed(daemon,
                daemon->Ctl({"--json", "claim", "--token", new_token, "--url",
                             cloud_->url(), "--proxy", "none"}));
}

TEST_F(ClaimTest, RegenerateTokenUpdatesClaimConfKeepingComments) {
  const std::string old_token = cloud_->Env("CLAIM_TOKEN");
  const std::string head =
      "# Claim settings of this test node.\n"
      "[global]\n"
      "    # where the cloud is\n"
      "    url = " +
      cloud_->url() + "\n";
  const std::string tail =
      "    ; rooms of Space A\n"
      "    rooms = " +
      cloud_->Env("ROOMS") +
      "\n"
      "    proxy = none\n"
      "    insecure = no\n";
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  options.claim_conf = head + "    token = " + old_token + "\n" + tail;
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);
  // claim.conf claims automatically at start.
  absl::StatusOr<json> state = daemon->WaitForState(
      [](const json& s) { return s.value("claimed", false); },
      absl::Seconds(20));
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_TRUE(state->value("claimed", false))
      << state->dump() << daemon->Stderr();
  EXPECT_EQ(state->value("claim_source", ""), "claim.conf");

  const testing::RunResult regenerated = daemon->CtlUnrecorded(
      {"--json", "regenerate-token", "--space-id", cloud_->Env("SPACE_ID"),
       "--api-token", cloud_->Env("ADMIN_API_TOKEN"), "--update-claim-conf"});
  ASSERT_EQ(regenerated.exit_code, 0) << regenerated.err << daemon->Stderr();
  const json answer = ParseJson(regenerated.out);
  const std::string new_token = answer.value("token", "");
  ASSERT_FALSE(new_token.empty());
  EXPECT_TRUE(answer.value("claim_conf_updated", false)) << regenerated.out;

  const std::string claim_conf =
      testing::ReadFileOrEmpty(daemon->claim_conf_path());
  EXPECT_EQ(claim_conf, head + "    token = " + new_token + "\n" + tail);
  EXPECT_EQ(testing::FileMode(daemon->claim_conf_path()), 0640);

  // Reclaim without a token uses claim.conf: the new token works.
  const testing::RunResult reclaimed = daemon->Ctl({"--json", "reclaim"});
  EXPECT_EQ(reclaimed.exit_code, 0) << reclaimed.err << daemon->Stderr();
  EXPECT_TRUE(IsUuid(ParseJson(reclaimed.out).value("claimed_id", "")))
      << reclaimed.out;
}

// An administrator's claim.conf keeps its owner, group and mode when the
// token in it is replaced (it used to become 0640 root:root).
TEST_F(ClaimTest, RegenerateTokenKeepsClaimConfOwnerGroupAndMode) {
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  options.claim_conf = absl::StrCat(
      "[global]\n    url = ", cloud_->url(),
      "\n    token = ", cloud_->Env("CLAIM_TOKEN"),
      "\n    rooms = ", cloud_->Env("ROOMS"), "\n    proxy = none\n");
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);
  const std::string path = daemon->claim_conf_path();
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  // Another group when the sandbox allows it (nogroup), else the same one.
  if (chown(path.c_str(), 0, 65534) != 0) {
    // Only root is mapped here: the group stays root's.
  }
  struct stat before;
  ASSERT_EQ(stat(path.c_str(), &before), 0);

  const testing::RunResult regenerated = daemon->CtlUnrecorded(
      {"--json", "regenerate-token", "--space-id", cloud_->Env("SPACE_ID"),
       "--api-token", cloud_->Env("ADMIN_API_TOKEN"), "--update-claim-conf"});
  ASSERT_EQ(regenerated.exit_code, 0) << regenerated.err << daemon->Stderr();
  EXPECT_TRUE(ParseJson(regenerated.out).value("claim_conf_updated", false))
      << regenerated.out;
  struct stat after;
  ASSERT_EQ(stat(path.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino) << "rewritten (atomically)";
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
}

// ---- Redaction across many flows in one daemon
// ------------------------------------

TEST_F(ClaimTest, NoSecretInDaemonLogOrCliOutputAfterManyFlows) {
  const std::string http_password = NewProxyPassword();
  const std::string socks_password = NewProxyPassword();
  const std::string wrong_password = NewProxyPassword();
  proxy_passwords_.push_back(wrong_password);
  ProxyProcess* http = StartProxy(ProxyKind::kTinyproxy, "h", http_password);
  ProxyProcess* socks = StartProxy(ProxyKind::kMicrosocks, "s", socks_password);
  ASSERT_NE(http, nullptr);
  ASSERT_NE(socks, nullptr);
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  options.log_level = "debug";
  options.env["https_proxy"] = socks->Url("socks5h");
  CloudlinkdProcess* daemon = StartDaemon(std::move(options));
  ASSERT_NE(daemon, nullptr);

  // Failures that name the proxy, successes, every way of reading state.
  ExpectClaimFailed(
      daemon,
      ClaimWith(daemon, cloud_->url(),
                http->UrlWithCredentials("http", "h", wrong_password)),
      "PROXY_AUTH");
  ArmClaimFault(403, 1);
  ExpectClaimFailed(daemon, ClaimWith(daemon, cloud_->url(), http->Url("http")),
                    "TOKEN_INVALID");
  ExpectClaimed(daemon, ClaimWith(daemon, cloud_->url(), http->Url("http")));
  EXPECT_EQ(daemon->Ctl({"get-state"}).exit_code, 0);
  EXPECT_EQ(daemon->Ctl({"aclk-state"}).exit_code, 0);
  EXPECT_EQ(daemon->Ctl({"aclk-state", "json"}).exit_code, 0);
  // CLAIMED_ELSEWHERE names the claim, not the token.
  const testing::RunResult elsewhere =
      daemon->Ctl({"claim", "--token", cloud_->Env("CLAIM_TOKEN_B"), "--url",
                   cloud_->url()});
  EXPECT_THAT(elsewhere.err, HasSubstr("CLAIMED_ELSEWHERE"));
  const testing::RunResult moved =
      daemon->Ctl({"reclaim", "--token", cloud_->Env("CLAIM_TOKEN_B"), "--url",
                   cloud_->url(), "--proxy", "env"});
  EXPECT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_TRUE(
      socks->WaitForTunnelTo("127.0.0.1", cloud_->port(), kTunnelLogWait))
      << socks->Log();
  // A refused regeneration (wrong admin token) and a granted one.
  const testing::RunResult refused =
      daemon->Ctl({"regenerate-token", "--space-id", cloud_->Env("SPACE_ID"),
                   "--api-token", cloud_->Env("ADMIN_API_TOKEN_B"), "--url",
                   cloud_->url(), "--proxy", "none"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("PERMISSION_DENIED"));
  const testing::RunResult granted = daemon->CtlUnrecorded(
      {"regenerate-token", "--space-id", cloud_->Env("SPACE_ID"), "--api-token",
       cloud_->Env("ADMIN_API_TOKEN"), "--url", cloud_->url(), "--proxy",
       "none"});
  EXPECT_EQ(granted.exit_code, 0) << granted.err;
  EXPECT_EQ(daemon->Ctl({"get-state", "--json"}).exit_code, 0);

  // Checked here explicitly (TearDown checks again, for every test).
  ASSERT_TRUE(cloud_->ReloadEnv().ok());
  std::vector<std::string> secrets = cloud_->Secrets();
  EXPECT_GE(secrets.size(), 5u);  // 4 at start + the regenerated token
  secrets.insert(secrets.end(),
                 {http_password, socks_password, wrong_password});
  const std::string everything =
      daemon->Stderr() + daemon->Stdout() + daemon->transcript();
  for (const std::string& secret : secrets) {
    EXPECT_THAT(everything, Not(HasSubstr(secret)));
  }
}

}  // namespace
}  // namespace cloudlink::integration

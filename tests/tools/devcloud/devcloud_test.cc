// End-to-end tests of the dev cloud's claiming side: the real binary on a
// temporary directory, real HTTPS requests verified against its CA.

#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "server/common/uuid.h"
#include "server/common/version.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"
#include "tests/tools/devcloud/dev_cloud_test_base.h"
#include "tests/tools/devcloud/node_key.h"

namespace cloudlink::devcloud {
namespace {

using devcloud_testing::NewEcPublicKeyPem;
using devcloud_testing::NewRsaPublicKeyPem;
using integration::DevCloud;
using nlohmann::json;
using testing::ReadFileOrEmpty;
using testing::Subprocess;
using testing::TempDir;
using testing::WaitFor;

struct ClaimRequest {
  std::string claim_id = NewUuidV4();
  std::string node_id;  // "" → claim_id
  std::string hostname = "node-1";
  std::string token;
  std::vector<std::string> rooms;
  std::string public_key = NewRsaPublicKeyPem();
  std::string machine_guid = NewUuidV4();

  std::string Body() const {
    return json{{"node",
                 {{"id", node_id.empty() ? claim_id : node_id},
                  {"hostname", hostname}}},
                {"token", token},
                {"rooms", rooms},
                {"publicKey", public_key},
                {"mGUID", machine_guid}}
        .dump();
  }
};

class DevCloudTest : public devcloud_testing::DevCloudTestBase {
 protected:
  ClaimRequest ValidClaim() const {
    ClaimRequest claim;
    claim.token = cloud_->Env("CLAIM_TOKEN");
    claim.rooms = absl::StrSplit(cloud_->Env("ROOMS"), ',');
    return claim;
  }

  httplib::Result Put(const ClaimRequest& claim) {
    return cloud_->Client()->Put(
        ("/api/v1/spaces/nodes/" + claim.claim_id).c_str(), claim.Body(),
        "application/json");
  }

  httplib::Headers Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  json ListNodes(const std::string& space_key, const std::string& token_key) {
    auto res = cloud_->Client()->Get(
        ("/api/v1/spaces/" + cloud_->Env(space_key) + "/nodes").c_str(),
        Bearer(cloud_->Env(token_key)));
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body);
  }

  // The errorMsgKey of a 422 answer, or "" when it is not one.
  static std::string ErrorKey(const httplib::Result& res) {
    if (!res || res->status != 422) return "";
    return json::parse(res->body).value("errorMsgKey", "");
  }
};

TEST_F(DevCloudTest, EnvFileHasEverythingAScriptNeeds) {
  for (const char* key :
       {"CLOUD_URL", "CLOUD_CA", "SPACE_ID", "CLAIM_TOKEN", "ROOMS",
        "ADMIN_API_TOKEN", "SPACE_B_ID", "CLAIM_TOKEN_B", "ROOMS_B",
        "ADMIN_API_TOKEN_B", "CLOUD_PID"}) {
    EXPECT_FALSE(cloud_->Env(key).empty()) << key;
  }
  EXPECT_EQ(cloud_->Env("CLOUD_CA"), dir_.Join("ca.pem"));
  EXPECT_GE(cloud_->Env("CLAIM_TOKEN").size(), 64u);
  EXPECT_NE(cloud_->Env("CLAIM_TOKEN"), cloud_->Env("CLAIM_TOKEN_B"));
  std::vector<std::string> rooms = absl::StrSplit(cloud_->Env("ROOMS"), ',');
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_TRUE(IsUuid(rooms[0]) && IsUuid(rooms[1]));
  EXPECT_TRUE(IsUuid(cloud_->Env("SPACE_ID")));
  EXPECT_EQ(testing::FileMode(dir_.Join("server.key")), 0600);
}

TEST_F(DevCloudTest, ServerCertificateFailsAgainstAnotherCa) {
  TempDir other;
  absl::StatusOr<std::unique_ptr<DevCloud>> other_cloud =
      DevCloud::Start(other.path());
  ASSERT_TRUE(other_cloud.ok()) << other_cloud.status();
  httplib::SSLClient client("127.0.0.1", cloud_->port());
  client.set_ca_cert_path((*other_cloud)->ca_path().c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/api/v1/spaces/x/nodes");
  EXPECT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::SSLServerVerification);
}

TEST_F(DevCloudTest, ClaimStoresNodeAndListsIt) {
  ClaimRequest claim = ValidClaim();
  auto res = Put(claim);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 204) << res->body;

  json nodes = ListNodes("SPACE_ID", "ADMIN_API_TOKEN");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0]["id"], claim.claim_id);
  EXPECT_EQ(nodes[0]["name"], "node-1");
  EXPECT_EQ(nodes[0]["machineGuid"], claim.machine_guid);
  EXPECT_EQ(nodes[0]["rooms"], json(claim.rooms));
  EXPECT_EQ(nodes[0]["state"], "created");
  EXPECT_TRUE(ListNodes("SPACE_B_ID", "ADMIN_API_TOKEN_B").empty());
}

TEST_F(DevCloudTest, ClaimWithUnknownTokenIs403) {
  ClaimRequest claim = ValidClaim();
  claim.token = "not-a-token";
  auto res = Put(claim);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_TRUE(json::parse(res->body).contains("errorMsgKey"));
}

TEST_F(DevCloudTest, ClaimingTheSameClaimIdTwiceIs409) {
  ClaimRequest claim = ValidClaim();
  ASSERT_EQ(Put(claim)->status, 204);
  ClaimRequest again = ValidClaim();
  again.claim_id = claim.claim_id;  // another machine, same claim id
  auto res = Put(again);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
}

TEST_F(DevCloudTest, BadClaimIdIs422InvalidNodeId) {
  ClaimRequest not_uuid = ValidClaim();
  not_uuid.claim_id = "not-a-uuid";
  not_uuid.node_id = "not-a-uuid";
  EXPECT_EQ(ErrorKey(Put(not_uuid)), "ErrInvalidNodeID");

  ClaimRequest mismatch = ValidClaim();
  mismatch.node_id = NewUuidV4();
  EXPECT_EQ(ErrorKey(Put(mismatch)), "ErrInvalidNodeID");
}

TEST_F(DevCloudTest, BadHostnameIs422InvalidNodeName) {
  for (const std::string& name :
       {std::string(), std::string(256, 'h'), std::string("bad\nname"),
        std::string("tab\tname")}) {
    ClaimRequest claim = ValidClaim();
    claim.hostname = name;
    EXPECT_EQ(ErrorKey(Put(claim)), "ErrInvalidNodeName") << name;
  }
  ClaimRequest longest = ValidClaim();
  longest.hostname = std::string(255, 'h');
  EXPECT_EQ(Put(longest)->status, 204);
}

TEST_F(DevCloudTest, RoomOfAnotherSpaceIs422InvalidRoomId) {
  ClaimRequest claim = ValidClaim();
  claim.rooms = {std::string(
      absl::StrSplit(cloud_->Env("ROOMS_B"), ',').begin().operator*())};
  EXPECT_EQ(ErrorKey(Put(claim)), "ErrInvalidRoomID");
  claim.rooms = {"not-a-room"};
  EXPECT_EQ(ErrorKey(Put(claim)), "ErrInvalidRoomID");
}

TEST_F(DevCloudTest, UnparsableOrNonRsaPublicKeyIs422InvalidPublicKey) {
  for (const std::string& key :
       {std::string("garbage"), NewEcPublicKeyPem(), std::string()}) {
    ClaimRequest claim = ValidClaim();
    claim.public_key = key;
    EXPECT_EQ(ErrorKey(Put(claim)), "ErrInvalidPublicKey");
  }
}

TEST_F(DevCloudTest, MalformedJsonIs400) {
  auto res =
      cloud_->Client()->Put(("/api/v1/spaces/nodes/" + NewUuidV4()).c_str(),
                            "{\"node\":", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(DevCloudTest, ClaimingAKnownMachineGuidMovesTheNode) {
  ClaimRequest first = ValidClaim();
  ASSERT_EQ(Put(first)->status, 204);

  // Same Space, new claim id: the old one is forgotten.
  ClaimRequest again = ValidClaim();
  again.machine_guid = first.machine_guid;
  ASSERT_EQ(Put(again)->status, 204);
  json nodes = ListNodes("SPACE_ID", "ADMIN_API_TOKEN");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0]["id"], again.claim_id);

  // Another Space: the node leaves the first one.
  ClaimRequest moved;
  moved.machine_guid = first.machine_guid;
  moved.token = cloud_->Env("CLAIM_TOKEN_B");
  ASSERT_EQ(Put(moved)->status, 204);
  EXPECT_TRUE(ListNodes("SPACE_ID", "ADMIN_API_TOKEN").empty());
  nodes = ListNodes("SPACE_B_ID", "ADMIN_API_TOKEN_B");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0]["id"], moved.claim_id);

  // The forgotten claim id is free again (no 409).
  ClaimRequest reuse = ValidClaim();
  reuse.claim_id = first.claim_id;
  EXPECT_EQ(Put(reuse)->status, 204);
}

TEST_F(DevCloudTest, RegenerateRefusesTheOldTokenAtOnceAndSurvivesRestart) {
  std::string path =
      "/api/v1/spaces/" + cloud_->Env("SPACE_ID") + "/claim-token/regenerate";
  auto res = cloud_->Client()->Post(path.c_str(),
                                    Bearer(cloud_->Env("ADMIN_API_TOKEN")), "",
                                    "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  std::string new_token = json::parse(res->body).value("token", "");
  EXPECT_GE(new_token.size(), 64u);
  EXPECT_NE(new_token, cloud_->Env("CLAIM_TOKEN"));

  ClaimRequest old_token = ValidClaim();
  EXPECT_EQ(Put(old_token)->status, 403);
  ClaimRequest fresh = ValidClaim();
  fresh.token = new_token;
  EXPECT_EQ(Put(fresh)->status, 204);

  EXPECT_EQ(cloud_->Stop().value_or(-1), 0);
  ASSERT_NO_FATAL_FAILURE(StartCloud());
  EXPECT_EQ(cloud_->Env("CLAIM_TOKEN"), new_token);
  ClaimRequest after_restart = ValidClaim();
  EXPECT_EQ(Put(after_restart)->status, 204);
  after_restart = ValidClaim();
  after_restart.token = old_token.token;
  EXPECT_EQ(Put(after_restart)->status, 403);
  // Nodes survive the restart too.
  EXPECT_EQ(ListNodes("SPACE_ID", "ADMIN_API_TOKEN").size(), 2u);
}

TEST_F(DevCloudTest, RegenerateNeedsTheSpacesAdminToken) {
  std::string path =
      "/api/v1/spaces/" + cloud_->Env("SPACE_ID") + "/claim-token/regenerate";
  auto client = cloud_->Client();
  EXPECT_EQ(client->Post(path.c_str(), "", "application/json")->status, 403);
  EXPECT_EQ(client
                ->Post(path.c_str(), Bearer(cloud_->Env("ADMIN_API_TOKEN_B")),
                       "", "application/json")
                ->status,
            403);
  std::string unknown =
      "/api/v1/spaces/" + NewUuidV4() + "/claim-token/regenerate";
  EXPECT_EQ(client
                ->Post(unknown.c_str(), Bearer(cloud_->Env("ADMIN_API_TOKEN")),
                       "", "application/json")
                ->status,
            404);
  // Nothing changed: the original token still claims.
  EXPECT_EQ(Put(ValidClaim())->status, 204);
}

TEST_F(DevCloudTest, NodeListingNeedsTheSpacesAdminToken) {
  auto client = cloud_->Client();
  std::string path = "/api/v1/spaces/" + cloud_->Env("SPACE_ID") + "/nodes";
  EXPECT_EQ(client->Get(path.c_str())->status, 403);
  EXPECT_EQ(client->Get(path.c_str(), Bearer(cloud_->Env("ADMIN_API_TOKEN_B")))
                ->status,
            403);
}

TEST_F(DevCloudTest, FaultSwitchAnswersTheNextNRequestsThenClears) {
  auto client = cloud_->Client();
  httplib::Headers admin = Bearer(cloud_->Env("ADMIN_API_TOKEN"));
  json fault = {{"pathPrefix", "/api/v1/spaces/nodes/"},
                {"status", 503},
                {"count", 2},
                {"body", {{"errorCode", "x"}}},
                {"headers", {{"Retry-After", "3"}}}};
  auto armed =
      client->Post("/_dev/faults", admin, fault.dump(), "application/json");
  ASSERT_TRUE(armed);
  ASSERT_EQ(armed->status, 204) << armed->body;

  ClaimRequest claim = ValidClaim();
  for (int i = 0; i < 2; ++i) {
    auto res = Put(claim);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503);
    EXPECT_EQ(res->get_header_value("Retry-After"), "3");
    EXPECT_EQ(json::parse(res->body)["errorCode"], "x");
  }
  EXPECT_EQ(Put(claim)->status, 204);

  auto counts = client->Get(
      "/_dev/requests?pathPrefix=%2Fapi%2Fv1%2Fspaces%2Fnodes%2F", admin);
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->status, 200);
  json seen = json::parse(counts->body);
  EXPECT_EQ(seen["total"], 3);
  EXPECT_EQ(seen["paths"]["/api/v1/spaces/nodes/" + claim.claim_id], 3);

  // Cleared rules no longer fire.
  fault["count"] = 5;
  ASSERT_EQ(
      client->Post("/_dev/faults", admin, fault.dump(), "application/json")
          ->status,
      204);
  ASSERT_EQ(client->Delete("/_dev/faults", admin)->status, 204);
  EXPECT_EQ(Put(ValidClaim())->status, 204);
}

// The request log says when the dev cloud took each request (by the wall
// clock), so tests judge intervals by the cloud's times, not by polling.
TEST_F(DevCloudTest, RequestLogRecordsWhenEachRequestArrived) {
  const absl::Time before = absl::Now();
  ASSERT_EQ(Put(ValidClaim())->status, 204);
  const absl::Time between = absl::Now();
  ASSERT_EQ(Put(ValidClaim())->status, 204);
  const absl::Time after = absl::Now();

  absl::StatusOr<std::vector<absl::Time>> times =
      cloud_->RequestTimes(DevCloud::kClaimPathPrefix);
  ASSERT_TRUE(times.ok()) << times.status();
  ASSERT_EQ(times->size(), 2u);
  EXPECT_GE((*times)[0], before);
  EXPECT_LE((*times)[0], between);
  EXPECT_GE((*times)[1], between);
  EXPECT_LE((*times)[1], after);
  absl::StatusOr<std::vector<absl::Time>> env_times =
      cloud_->RequestTimes("/api/v1/env");
  ASSERT_TRUE(env_times.ok()) << env_times.status();
  EXPECT_TRUE(env_times->empty());
}

TEST_F(DevCloudTest, FaultDelayIsApplied) {
  auto client = cloud_->Client();
  json fault = {{"pathPrefix", "/api/v1/spaces/nodes/"},
                {"status", 504},
                {"delayMs", 300}};
  ASSERT_EQ(client
                ->Post("/_dev/faults", Bearer(cloud_->Env("ADMIN_API_TOKEN")),
                       fault.dump(), "application/json")
                ->status,
            204);
  absl::Time start = absl::Now();
  auto res = Put(ValidClaim());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 504);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
}

TEST_F(DevCloudTest, DevSwitchesNeedAnAdminToken) {
  auto client = cloud_->Client();
  json fault = {{"pathPrefix", "/"}, {"status", 500}};
  EXPECT_EQ(
      client->Post("/_dev/faults", fault.dump(), "application/json")->status,
      403);
  EXPECT_EQ(client->Get("/_dev/requests")->status, 403);
  // The refused fault was not armed.
  EXPECT_EQ(Put(ValidClaim())->status, 204);
  // Space B's admin token is accepted too.
  EXPECT_EQ(
      client->Get("/_dev/requests", Bearer(cloud_->Env("ADMIN_API_TOKEN_B")))
          ->status,
      200);
}

TEST_F(DevCloudTest, CertificatesAreReusedAcrossRestart) {
  std::string ca = ReadFileOrEmpty(dir_.Join("ca.pem"));
  std::string cert = ReadFileOrEmpty(dir_.Join("server.pem"));
  ASSERT_FALSE(ca.empty());
  std::string space = cloud_->Env("SPACE_ID");
  EXPECT_EQ(cloud_->Stop().value_or(-1), 0);
  EXPECT_FALSE(testing::FileExists(dir_.Join("devcloud.env")));

  ASSERT_NO_FATAL_FAILURE(StartCloud());
  EXPECT_EQ(ReadFileOrEmpty(dir_.Join("ca.pem")), ca);
  EXPECT_EQ(ReadFileOrEmpty(dir_.Join("server.pem")), cert);
  EXPECT_EQ(cloud_->Env("SPACE_ID"), space);
  // The old CA still verifies the restarted server.
  EXPECT_EQ(Put(ValidClaim())->status, 204);
}

TEST_F(DevCloudTest, SecondDevCloudOnTheSameDirIsRefused) {
  testing::SubprocessOptions second;
  second.argv = {testing::RunfilePath("tools/devcloud/devcloud"), "--dir",
                 dir_.path()};
  auto run = testing::Run(second, absl::Seconds(30));
  ASSERT_TRUE(run.ok());
  EXPECT_NE(run->exit_code, 0);
  EXPECT_NE(run->err.find("DIR_IN_USE"), std::string::npos) << run->err;
  EXPECT_EQ(Put(ValidClaim())->status, 204);
}

// The dev cloud's command line (Abseil flags): --version and --help exit 0;
// a bad command line exits 2 naming the flag, before anything starts.
TEST(DevCloudCommandLineTest, VersionHelpAndFlagErrors) {
  auto run = [](std::vector<std::string> args) {
    testing::SubprocessOptions options;
    options.argv = {testing::RunfilePath("tools/devcloud/devcloud")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<testing::RunResult> result =
        testing::Run(options, absl::Seconds(30));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : testing::RunResult{};
  };
  const testing::RunResult version = run({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out, absl::StrCat("devcloud ", kVersion, "\n"));
  const testing::RunResult help = run({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  for (const char* flag : {"--dir", "--host", "--port", "--log-level",
                           "--mosquitto", "--broker-max-keepalive"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag << help.out;
  }

  TempDir dir;
  const std::string dir_flag = "--dir=" + dir.Join("cloud");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "--dir is required"},
      {{dir_flag, "--port=70000"}, "--port must be 0 to 65535"},
      {{dir_flag, "--port=http"}, "--port"},
      {{dir_flag, "--broker-max-keepalive=5"},
       "--broker-max-keepalive must be 10 to 65535 seconds"},
      {{dir_flag, "--log-level=loud"}, "debug, info, warning or error"},
      {{dir_flag, "--no-such-flag"}, "--no-such-flag"}};
  for (const auto& [args, says] : cases) {
    const testing::RunResult result = run(args);
    EXPECT_EQ(result.exit_code, 2) << says << "\n" << result.err;
    EXPECT_NE(result.err.find(says), std::string::npos) << result.err;
  }
  EXPECT_FALSE(testing::FileExists(dir.Join("cloud")));
}

}  // namespace
}  // namespace cloudlink::devcloud

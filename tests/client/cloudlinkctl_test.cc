// End-to-end: the real cloudlinkctl binary against a small CloudLink server
// run by the test on a Unix socket.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/api/grpc_status.h"
#include "server/common/error.h"
#include "server/common/mutex.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::ordered_json;

constexpr char kClaimId[] = "53aa76c2-8af5-448f-849a-b16872cc4ba1";
constexpr char kGoodToken[] = "good-claim-token-QmFzZTY0LXNlY3JldC0xMjM0NTY";
constexpr char kBadToken[] = "rejected-claim-token-c2VjcmV0LTk4NzY1NDMyMQ";
constexpr char kEchoToken[] = "echoed-claim-token-ZWNobyB0aGlzIHNlY3JldA";

cloudlink::v1::State OnlineState() {
  cloudlink::v1::State state;
  state.set_aclk_available(true);
  state.set_claimed(true);
  state.set_claimed_id(kClaimId);
  state.set_machine_guid("0b2a1c1e-1d2e-4f00-8a6b-2d1c9e8f7a6b");
  state.set_url("https://app.netdata.cloud");
  state.add_rooms("room-a");
  state.set_status("online");
  state.set_online(true);
  state.set_mqtt_version(5);
  state.mutable_since()->set_seconds(1767323045);
  state.mutable_publish()->set_published(7);
  return state;
}

// Answers like cloudlinkd would, from fixed values; records requests.
class FakeCloudLink final : public cloudlink::v1::CloudLink::Service {
 public:
  grpc::Status GetState(grpc::ServerContext*,
                        const cloudlink::v1::GetStateRequest*,
                        cloudlink::v1::State* state) override {
    *state = OnlineState();
    return grpc::Status::OK;
  }

  grpc::Status Claim(grpc::ServerContext*,
                     const cloudlink::v1::ClaimRequest* request,
                     cloudlink::v1::ClaimResponse* response) override {
    {
      MutexLock lock(&mu_);
      last_claim_ = *request;
    }
    // Errors as cloudlinkd sends them: the reason starts the message and
    // comes as an ErrorInfo detail.
    if (request->token() == kBadToken) {
      return api::ToGrpcStatus(
          Error(absl::StatusCode::kPermissionDenied, reason::kTokenInvalid,
                "the cloud rejected the claim token (HTTP 403); get a new "
                "token from the Space settings"));
    }
    if (request->token() == kEchoToken) {
      // A misbehaving daemon; the CLI must still not print the token.
      return api::ToGrpcStatus(
          Error(absl::StatusCode::kInvalidArgument, reason::kTokenInvalidFormat,
                absl::StrCat("token ", request->token(), " is malformed")));
    }
    if (request->url() == "https://unreachable.example") {
      return api::ToGrpcStatus(
          Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                "cannot connect to https://unreachable.example"));
    }
    if (request->url() == "https://text-only.example") {
      // Text that only looks like a reason, without the ErrorInfo.
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "CONNECT_FAILED: cannot connect to "
                          "https://text-only.example");
    }
    response->set_claimed_id(kClaimId);
    *response->mutable_state() = OnlineState();
    return grpc::Status::OK;
  }

  grpc::Status ReloadClaimingState(
      grpc::ServerContext*,
      const cloudlink::v1::ReloadClaimingStateRequest* request,
      cloudlink::v1::State* state) override {
    *state = OnlineState();
    state->set_reason(absl::StrCat("waited ", request->wait_seconds()));
    return grpc::Status::OK;
  }

  // Never answers: returns once the client's deadline cancels the call
  // (bounded).
  grpc::Status RegenerateToken(
      grpc::ServerContext* context,
      const cloudlink::v1::RegenerateTokenRequest*,
      cloudlink::v1::RegenerateTokenResponse*) override {
    testing::WaitFor([context] { return context->IsCancelled(); },
                     absl::Seconds(20));
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }

  grpc::Status WatchState(
      grpc::ServerContext*, const cloudlink::v1::WatchStateRequest*,
      grpc::ServerWriter<cloudlink::v1::State>* writer) override {
    for (int i = 0; i < 3; ++i) {
      cloudlink::v1::State state = OnlineState();
      state.set_reconnect_count(i);
      if (!writer->Write(state)) break;
    }
    return grpc::Status::OK;
  }

  cloudlink::v1::ClaimRequest last_claim() {
    MutexLock lock(&mu_);
    return last_claim_;
  }

 private:
  Mutex mu_;
  cloudlink::v1::ClaimRequest last_claim_ ABSL_GUARDED_BY(mu_);
};

class CloudlinkctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.Join("cl.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_,
                             grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
  }

  // Runs cloudlinkctl with `args`, CLOUDLINK_SOCKET unset unless in `env`.
  testing::RunResult Ctl(std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
    testing::SubprocessOptions options;
    options.argv = {testing::RunfilePath("client/cloudlinkctl")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    if (env.count("CLOUDLINK_SOCKET") == 0) {
      options.unset_env = {"CLOUDLINK_SOCKET"};
    }
    options.env = std::move(env);
    absl::StatusOr<testing::RunResult> result =
        testing::Run(std::move(options), absl::Seconds(30));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : testing::RunResult();
  }

  testing::TempDir dir_;
  std::string socket_;
  FakeCloudLink service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(CloudlinkctlTest, GetStateAsText) {
  const testing::RunResult r = Ctl({"get-state", "--socket", socket_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("claimed: true\n"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("claimed_id: ", kClaimId, "\n")));
  EXPECT_THAT(r.out, HasSubstr("rooms: room-a\n"));
  EXPECT_THAT(r.out, HasSubstr("since: 2026-01-02T03:04:05Z\n"));
  EXPECT_THAT(r.out, HasSubstr("publish:\n  published: 7\n"));
  EXPECT_EQ(r.err, "");
}

TEST_F(CloudlinkctlTest, GetStateAsJsonHasEveryField) {
  // Global flags before the command work as well as after it.
  const testing::RunResult r =
      Ctl({"--socket=unix:" + socket_, "--json", "get-state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json json = Json::parse(r.out);
  const auto* state = cloudlink::v1::State::descriptor();
  ASSERT_EQ(json.size(), static_cast<size_t>(state->field_count()));
  for (int i = 0; i < state->field_count(); ++i) {
    EXPECT_TRUE(json.contains(state->field(i)->name()))
        << state->field(i)->name();
  }
  EXPECT_EQ(json["claimed_id"], kClaimId);
  EXPECT_EQ(json["insecure"], false);
  EXPECT_EQ(json["reason"], "");
  EXPECT_TRUE(json["last_connect"].is_null());
}

TEST_F(CloudlinkctlTest, AclkStateLinesAndJson) {
  const testing::RunResult r =
      Ctl({"aclk-state"}, {{"CLOUDLINK_SOCKET", socket_}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith(
                         absl::StrCat("ACLK Available: Yes\n"
                                      "ACLK Implementation: Next Generation\n"
                                      "New Cloud Protocol Support: Yes\n"
                                      "Claimed: Yes\n"
                                      "Claimed Id: ",
                                      kClaimId,
                                      "\n"
                                      "Online: Yes\n"
                                      "Used Cloud Protocol: New\n")));

  const testing::RunResult json =
      Ctl({"aclk-state", "json"}, {{"CLOUDLINK_SOCKET", socket_}});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const testing::RunResult get_state =
      Ctl({"get-state", "--json"}, {{"CLOUDLINK_SOCKET", socket_}});
  EXPECT_EQ(json.out, get_state.out);
  EXPECT_EQ(Json::parse(json.out)["online"], true);
}

TEST_F(CloudlinkctlTest, ClaimPassesFlagsAndNeverShowsTheToken) {
  const testing::RunResult r =
      Ctl({"claim", "--token", kGoodToken, "--rooms", "a,b", "--insecure",
           "--url=https://cloud.example", "--socket", socket_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const cloudlink::v1::ClaimRequest seen = service_.last_claim();
  EXPECT_EQ(seen.token(), kGoodToken);
  EXPECT_THAT(seen.rooms(), ::testing::ElementsAre("a", "b"));
  EXPECT_TRUE(seen.insecure());
  EXPECT_EQ(seen.url(), "https://cloud.example");
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("claimed_id: ", kClaimId)));
  EXPECT_THAT(r.out, HasSubstr("state:\n  aclk_available: true\n"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kGoodToken)));
}

TEST_F(CloudlinkctlTest, RpcErrorExitsOneWithReasonAndCode) {
  const testing::RunResult r =
      Ctl({"claim", "--socket", socket_, "--token", kBadToken});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("TOKEN_INVALID: the cloud rejected the claim "
                               "token (HTTP 403)"));
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kBadToken)));
}

TEST_F(CloudlinkctlTest, TokenEchoedByTheDaemonIsScrubbed) {
  const testing::RunResult r =
      Ctl({"claim", "--socket", socket_, "--token=" + std::string(kEchoToken)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("TOKEN_INVALID_FORMAT: token **** is malformed"));
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kEchoToken)));
}

TEST_F(CloudlinkctlTest, DaemonUnavailableWithAReasonIsAnRpcError) {
  // UNAVAILABLE from the daemon (the cloud is down) is not "daemon
  // unreachable".
  const testing::RunResult r =
      Ctl({"claim", "--socket", socket_, "--token", kGoodToken, "--url",
           "https://unreachable.example"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("CONNECT_FAILED: cannot connect"));
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(CloudlinkctlTest, ReasonIsReadFromErrorInfoNotFromText) {
  // UNAVAILABLE without an ErrorInfo is gRPC's own, whatever its message
  // says: cloudlinkctl reports the daemon as unreachable.
  const testing::RunResult r =
      Ctl({"claim", "--socket", socket_, "--token", kGoodToken, "--url",
           "https://text-only.example"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, HasSubstr("DAEMON_UNREACHABLE"));
}

TEST_F(CloudlinkctlTest, NumberFlagReachesTheDaemon) {
  const testing::RunResult r = Ctl(
      {"reload-claiming-state", "--wait-seconds", "7", "--socket", socket_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("reason: waited 7\n"));
}

TEST_F(CloudlinkctlTest, ServerStreamPrintsOneJsonObjectPerLine) {
  const testing::RunResult r =
      Ctl({"watch-state", "--json", "--socket", socket_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Json json = Json::parse(lines[i]);
    EXPECT_EQ(json["reconnect_count"], std::to_string(i));
  }
}

TEST_F(CloudlinkctlTest, ServerStreamAsTextBlocks) {
  const testing::RunResult r = Ctl({"watch-state", "--socket", socket_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("reconnect_count: 0\n"));
  EXPECT_THAT(r.out, HasSubstr("reconnect_count: 2\n"));
  EXPECT_THAT(r.out, HasSubstr("hostname:\n\naclk_available: true\n"));
}

TEST_F(CloudlinkctlTest, MissingSocketExitsThreeNamingThePath) {
  const std::string missing = dir_.Join("absent.sock");
  const testing::RunResult r = Ctl({"get-state", "--socket", missing});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("DAEMON_UNREACHABLE: cannot reach cloudlinkd "
                               "at " +
                               missing + ": the socket does not exist"));
  EXPECT_EQ(r.out, "");
}

TEST_F(CloudlinkctlTest, RefusedConnectionExitsThree) {
  // A socket file nobody listens on: connect() is refused.
  const std::string path = dir_.Join("dead.sock");
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  const testing::RunResult r =
      Ctl({"claim", "--token", kGoodToken, "--socket", path});
  close(fd);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("cannot reach cloudlinkd at " + path));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kGoodToken)));
}

TEST_F(CloudlinkctlTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"claim", "--colour", "red"},
           {"reload-claiming-state", "--wait-seconds", "soon"},
           {"no-such-command"},
           {"get-state", "--timeout", "-4"},
           {"aclk-state", "yaml"},
           {}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--socket", socket_});
    if (args.empty()) full = {};
    const testing::RunResult r = Ctl(full);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_NE(r.err, "") << absl::StrJoin(args, " ");
  }
  const testing::RunResult bad_number =
      Ctl({"reload-claiming-state", "--wait-seconds", "soon"});
  EXPECT_THAT(bad_number.err,
              HasSubstr("BAD_FLAG_VALUE: --wait-seconds: \"soon\" is not an "
                        "unsigned 32-bit integer"));
}

TEST_F(CloudlinkctlTest, BadFlagNextToATokenDoesNotShowTheToken) {
  const testing::RunResult r =
      Ctl({"claim", "--token", kGoodToken, "--insecure=perhaps"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("BAD_FLAG_VALUE: --insecure"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kGoodToken)));
}

TEST_F(CloudlinkctlTest, TimeoutIsAnRpcErrorWithoutTheApiToken) {
  const std::string api_token = "admin-api-token-YWRtaW4tc2VjcmV0LTQy";
  const testing::RunResult r =
      Ctl({"regenerate-token", "--space-id", "s1", "--api-token", api_token,
           "--timeout", "0.3", "--socket", socket_});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(r.err, HasSubstr("see --timeout"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(api_token)));
}

TEST_F(CloudlinkctlTest, HelpAndVersion) {
  const testing::RunResult help = Ctl({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("  reload-claiming-state"));
  EXPECT_THAT(help.out, HasSubstr("  aclk-state [json]"));
  const testing::RunResult claim_help = Ctl({"claim", "--help"});
  EXPECT_EQ(claim_help.exit_code, 0);
  EXPECT_THAT(claim_help.out, HasSubstr("The Space's claim token. Required."));
  const testing::RunResult version = Ctl({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, ::testing::StartsWith("cloudlinkctl "));
}

}  // namespace
}  // namespace cloudlink::client

// End-to-end: the real cloudlinkctl binary against a small CloudLink server
// run by the test on a Unix socket.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
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

// ReloadClaimingState's wait_seconds values that make the fake answer a
// node that is not online, or online with a config error.
constexpr uint32_t kOfflineWait = 91;
constexpr uint32_t kConfigErrorWait = 92;

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
    if (request->url() == "https://held.example") {
      // Holds the call until the test released it (bounded), so that the
      // test can look at the running cloudlinkctl.
      {
        MutexLock lock(&mu_);
        held_ = true;
      }
      testing::WaitFor(
          [this] {
            MutexLock lock(&mu_);
            return released_;
          },
          absl::Seconds(20));
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
    if (request->wait_seconds() == kOfflineWait) {
      // Not online when the wait ended.
      state->set_online(false);
      state->set_status("offline");
      state->set_reason("CONNECT_FAILED: cannot connect to the cloud");
    }
    if (request->wait_seconds() == kConfigErrorWait) {
      state->set_config_error(
          "CONFIG_INVALID: /etc/cloudlink/claim.conf:2: bad line");
    }
    return grpc::Status::OK;
  }

  // Acks every message as the daemon does: topic "unknown-topic" with
  // TOPIC_UNKNOWN, every other with OK; a single-message request with its
  // own ack, a batch with one batch ack.
  grpc::Status Publish(grpc::ServerContext*,
                       grpc::ServerReaderWriter<cloudlink::v1::PublishAck,
                                                cloudlink::v1::PublishRequest>*
                           stream) override {
    constexpr char kUnknown[] =
        "TOPIC_UNKNOWN: \"unknown-topic\" is not a topic name of the "
        "cloud's topic map (for example node-instance-info)";
    const int invalid = static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT);
    cloudlink::v1::PublishRequest request;
    while (stream->Read(&request)) {
      cloudlink::v1::PublishAck ack;
      if (request.batch_size() == 0) {
        ack.set_id(request.id());
        if (request.topic() == "unknown-topic") {
          ack.set_code(invalid);
          ack.set_message(kUnknown);
        }
      }
      for (const cloudlink::v1::PublishMessage& message : request.batch()) {
        if (message.topic() == "unknown-topic") {
          cloudlink::v1::PublishFailure* failure = ack.add_failed();
          failure->set_id(message.id());
          failure->set_code(invalid);
          failure->set_message(kUnknown);
        } else {
          ack.add_ok_ids(message.id());
        }
      }
      stream->Write(ack);
    }
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
  bool held() {
    MutexLock lock(&mu_);
    return held_;
  }
  void Release() {
    MutexLock lock(&mu_);
    released_ = true;
  }

 private:
  Mutex mu_;
  cloudlink::v1::ClaimRequest last_claim_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
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

  // Runs cloudlinkctl with `args`, CLOUDLINK_SOCKET and the secret
  // variables unset unless in `env`; `stdin_text` is its standard input.
  testing::RunResult Ctl(std::vector<std::string> args,
                         std::map<std::string, std::string> env = {},
                         std::string stdin_text = "") {
    testing::SubprocessOptions options;
    options.argv = {testing::RunfilePath("client/cloudlinkctl")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    for (const char* name :
         {"CLOUDLINK_SOCKET", "CLOUDLINK_TOKEN", "CLOUDLINK_API_TOKEN"}) {
      if (env.count(name) == 0) options.unset_env.push_back(name);
    }
    options.env = std::move(env);
    options.stdin_text = std::move(stdin_text);
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
  EXPECT_THAT(r.out, HasSubstr("hostname: null\n\naclk_available: true\n"));
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

// ---- Exit codes ------------------------------------------------------------

TEST_F(CloudlinkctlTest, ClaimWithoutTokenIsAUsageErrorAndSendsNothing) {
  const testing::RunResult r = Ctl({"claim", "--socket", socket_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("MISSING_FLAG: claim needs --token (or "
                               "--token-file PATH, --token -, or "
                               "$CLOUDLINK_TOKEN)"));
  EXPECT_EQ(service_.last_claim().token(), "");
  const testing::RunResult regen =
      Ctl({"regenerate-token", "--space-id", "s1", "--socket", socket_});
  EXPECT_EQ(regen.exit_code, 2) << regen.err;
  EXPECT_THAT(regen.err, HasSubstr("MISSING_FLAG: regenerate-token needs "
                                   "--api-token"));
}

TEST_F(CloudlinkctlTest, ReloadThatDoesNotReachOnlineExitsFour) {
  const testing::RunResult offline =
      Ctl({"reload-claiming-state", "--wait-seconds",
           std::to_string(kOfflineWait), "--socket", socket_});
  EXPECT_EQ(offline.exit_code, 4) << offline.err;
  EXPECT_THAT(offline.out, HasSubstr("status: offline\n"));  // still printed
  EXPECT_THAT(offline.err,
              HasSubstr("STATE_NOT_REACHED: the node is not online after the "
                        "reload (status offline: CONNECT_FAILED: cannot "
                        "connect to the cloud)"));
  const testing::RunResult config_error =
      Ctl({"reload-claiming-state", "--wait-seconds",
           std::to_string(kConfigErrorWait), "--socket", socket_});
  EXPECT_EQ(config_error.exit_code, 4) << config_error.err;
  EXPECT_THAT(config_error.err,
              HasSubstr("STATE_NOT_REACHED: the node is online, but its claim "
                        "configuration has an error: CONFIG_INVALID"));
  const testing::RunResult online = Ctl(
      {"reload-claiming-state", "--wait-seconds", "3", "--socket", socket_});
  EXPECT_EQ(online.exit_code, 0) << online.err;
  EXPECT_EQ(online.err, "");
}

TEST_F(CloudlinkctlTest, PublishWithFailedAcksExitsFive) {
  const testing::RunResult failed =
      Ctl({"publish", "--socket", socket_}, {},
          "{\"id\":1,\"topic\":\"node-instance-info\",\"payload\":\"aGk=\"}\n"
          "{\"id\":2,\"topic\":\"unknown-topic\",\"payload\":\"aGk=\"}\n");
  EXPECT_EQ(failed.exit_code, 5) << failed.err;
  EXPECT_THAT(failed.out, HasSubstr("TOPIC_UNKNOWN"));  // the acks themselves
  EXPECT_THAT(failed.err,
              HasSubstr("PUBLISH_ACKS_FAILED: 1 of 2 messages were not "
                        "accepted (id 2: TOPIC_UNKNOWN: \"unknown-topic\""));
  const testing::RunResult ok =
      Ctl({"publish", "--id", "7", "--topic", "node-instance-info", "--payload",
           "aGk=", "--socket", socket_});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.err, "");
}

TEST_F(CloudlinkctlTest, PublishWithoutTopicFlagIsAUsageError) {
  const testing::RunResult r =
      Ctl({"publish", "--id", "1", "--payload", "aGk=", "--socket", socket_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("MISSING_FLAG: publish needs --topic"));
}

// ---- JSON errors
// -------------------------------------------------------------

Json LastJsonLine(const std::string& text) {
  const std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty()) return Json();
  return Json::parse(lines.back(), nullptr, /*allow_exceptions=*/false);
}

TEST_F(CloudlinkctlTest, WithJsonErrorsAreJsonOfAStableShape) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string code;
    std::string reason;
    std::string message_start;
  };
  const std::vector<Case> cases = {
      {{"claim", "--colour", "red"},
       2,
       "INVALID_ARGUMENT",
       "UNKNOWN_FLAG",
       "UNKNOWN_FLAG: --colour is not a flag of claim"},
      {{"claim"},
       2,
       "INVALID_ARGUMENT",
       "MISSING_FLAG",
       "MISSING_FLAG: claim needs --token"},
      {{"claim", "--token-file", dir_.Join("absent")},
       2,
       "INVALID_ARGUMENT",
       "SECRET_UNREADABLE",
       "SECRET_UNREADABLE: --token-file: " + dir_.Join("absent") +
           " cannot be read"},
      {{"claim", "--token", kBadToken},
       1,
       "PERMISSION_DENIED",
       "TOKEN_INVALID",
       "TOKEN_INVALID: the cloud rejected the claim token (HTTP 403)"},
      {{"claim", "--token", kGoodToken, "--url", "https://text-only.example"},
       3,
       "UNAVAILABLE",
       "DAEMON_UNREACHABLE",
       "DAEMON_UNREACHABLE: cannot reach cloudlinkd at " + socket_},
      {{"reload-claiming-state", "--wait-seconds",
        std::to_string(kOfflineWait)},
       4,
       "FAILED_PRECONDITION",
       "STATE_NOT_REACHED",
       "STATE_NOT_REACHED: the node is not online"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--socket", socket_, "--json"});
    const testing::RunResult r = Ctl(args);
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    // Every line of stderr is a JSON object; the last is the error.
    for (absl::string_view line :
         absl::StrSplit(r.err, '\n', absl::SkipEmpty())) {
      EXPECT_FALSE(Json::parse(line, nullptr, false).is_discarded()) << line;
    }
    const Json json = LastJsonLine(r.err);
    ASSERT_TRUE(json.is_object()) << r.err;
    ASSERT_TRUE(json.contains("error")) << r.err;
    const Json& error = json["error"];
    std::vector<std::string> keys;
    for (const auto& item : error.items()) keys.push_back(item.key());
    EXPECT_THAT(
        keys, ::testing::ElementsAre("code", "reason", "message", "exit_code"));
    EXPECT_EQ(error["code"], c.code);
    EXPECT_EQ(error["reason"], c.reason);
    EXPECT_THAT(error["message"].get<std::string>(),
                ::testing::StartsWith(c.message_start));
    EXPECT_EQ(error["exit_code"], c.exit_code);
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(kBadToken)));
  }
}

// ---- Secrets
// -----------------------------------------------------------------

TEST_F(CloudlinkctlTest, TokenFromAFileStandardInputOrTheEnvironment) {
  const std::string file = dir_.Join("token");
  ASSERT_TRUE(testing::WriteFile(file, absl::StrCat(kGoodToken, "\n")).ok());
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  const std::vector<std::pair<std::string, testing::RunResult>> runs = {
      {"file", Ctl({"claim", "--token-file", file, "--socket", socket_})},
      {"file=", Ctl({"claim", "--token-file=" + file, "--socket", socket_})},
      {"stdin", Ctl({"claim", "--token", "-", "--socket", socket_}, {},
                    absl::StrCat(kGoodToken, "\n"))},
      {"stdin file", Ctl({"claim", "--token-file", "-", "--socket", socket_},
                         {}, kGoodToken)},
      {"env",
       Ctl({"claim", "--socket", socket_}, {{"CLOUDLINK_TOKEN", kGoodToken}})},
  };
  for (const auto& [form, r] : runs) {
    SCOPED_TRACE(form);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "no warning for a safe form";
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("claimed_id: ", kClaimId)));
    EXPECT_THAT(r.out, Not(HasSubstr(kGoodToken)));
  }
  EXPECT_EQ(service_.last_claim().token(), kGoodToken);

  // A flag wins over the environment.
  const testing::RunResult flag_wins =
      Ctl({"claim", "--token-file", file, "--socket", socket_},
          {{"CLOUDLINK_TOKEN", kBadToken}});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.err;

  // The API token of regenerate-token the same way (the fake never answers:
  // the deadline ends the call, an RPC error).
  const testing::RunResult api =
      Ctl({"regenerate-token", "--space-id", "s1", "--timeout", "0.3",
           "--socket", socket_},
          {{"CLOUDLINK_API_TOKEN", "admin-api-token-ZW52LXNlY3JldA"}});
  EXPECT_EQ(api.exit_code, 1) << api.err;
  EXPECT_THAT(api.err, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(api.err, Not(HasSubstr("SECRET_ON_COMMAND_LINE")));
}

TEST_F(CloudlinkctlTest, PlainArgumentTokenWorksWithAWarning) {
  const testing::RunResult r =
      Ctl({"claim", "--token", kGoodToken, "--socket", socket_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(service_.last_claim().token(), kGoodToken);
  EXPECT_THAT(r.err,
              HasSubstr("cloudlinkctl: warning: SECRET_ON_COMMAND_LINE: "
                        "--token was given on the command line, where every "
                        "local user can read it (/proc/PID/cmdline, ps); use "
                        "--token-file PATH, --token - (standard input) or the "
                        "environment variable CLOUDLINK_TOKEN instead"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kGoodToken)));
  // With --json, the warning is JSON too.
  const testing::RunResult json =
      Ctl({"--json", "regenerate-token", "--space-id", "s1", "--api-token",
           "admin-api-token-YXJnLXNlY3JldA", "--timeout", "0.3", "--socket",
           socket_});
  const std::vector<std::string> lines =
      absl::StrSplit(json.err, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << json.err;
  const Json warning = Json::parse(lines[0], nullptr, false);
  EXPECT_EQ(warning["warning"]["reason"], "SECRET_ON_COMMAND_LINE") << lines[0];
  EXPECT_THAT(warning["warning"]["message"].get<std::string>(),
              HasSubstr("--api-token-file PATH"));
  EXPECT_EQ(LastJsonLine(json.err)["error"]["code"], "DEADLINE_EXCEEDED");
}

TEST_F(CloudlinkctlTest, BadSecretSourcesAreUsageErrors) {
  const std::string empty = dir_.Join("empty");
  ASSERT_TRUE(testing::WriteFile(empty, "\n").ok());
  const std::string two_lines = dir_.Join("two");
  ASSERT_TRUE(
      testing::WriteFile(two_lines, absl::StrCat(kGoodToken, "\nmore\n")).ok());
  const std::string file = dir_.Join("token");
  ASSERT_TRUE(testing::WriteFile(file, kGoodToken).ok());
  struct Case {
    std::vector<std::string> args;
    std::string stdin_text;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--token-file", empty},
       "",
       "SECRET_UNREADABLE: --token-file: " + empty + " is empty"},
      {{"--token-file", two_lines}, "", "holds more than one line"},
      {{"--token", "-"}, "", "standard input ended before a line was read"},
      {{"--token-file"}, "", "MISSING_FLAG_VALUE: --token-file needs a value"},
      {{"--token-file", file, "--token", "x"},
       "",
       "CONFLICTING_FLAGS: --token is given more than once"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"claim", "--socket", socket_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const testing::RunResult r = Ctl(args, {}, c.stdin_text);
    SCOPED_TRACE(absl::StrJoin(c.args, " "));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.says));
    EXPECT_THAT(r.err, Not(HasSubstr(kGoodToken)));
  }
  EXPECT_EQ(service_.last_claim().token(), "") << "nothing was sent";
}

// /proc/PID/cmdline of a running cloudlinkctl holds no token in the safe
// forms (and does in the plain one, which is why it warns).
TEST_F(CloudlinkctlTest, SafeFormsKeepTheTokenOutOfTheCommandLine) {
  const std::string file = dir_.Join("token");
  ASSERT_TRUE(testing::WriteFile(file, kGoodToken).ok());
  struct Form {
    std::string name;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string stdin_text;
    bool token_in_cmdline;
  };
  const std::vector<Form> forms = {
      {"file", {"--token-file", file}, {}, "", false},
      {"stdin", {"--token", "-"}, {}, absl::StrCat(kGoodToken, "\n"), false},
      {"env", {}, {{"CLOUDLINK_TOKEN", kGoodToken}}, "", false},
      {"argument", {"--token", kGoodToken}, {}, "", true},
  };
  for (const Form& form : forms) {
    SCOPED_TRACE(form.name);
    ASSERT_TRUE(server_ != nullptr);
    // A fresh fake for each form: the held call must be released.
    FakeCloudLink held_service;
    testing::TempDir held_dir;
    const std::string held_socket = held_dir.Join("held.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + held_socket,
                             grpc::InsecureServerCredentials());
    builder.RegisterService(&held_service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    ASSERT_NE(server, nullptr);

    testing::SubprocessOptions options;
    options.argv = {testing::RunfilePath("client/cloudlinkctl"),
                    "claim",
                    "--url",
                    "https://held.example",
                    "--socket",
                    held_socket};
    options.argv.insert(options.argv.end(), form.args.begin(), form.args.end());
    options.unset_env = {"CLOUDLINK_SOCKET"};
    if (form.env.empty()) options.unset_env.push_back("CLOUDLINK_TOKEN");
    options.env = form.env;
    options.stdin_text = form.stdin_text;
    options.stdout_path = held_dir.Join("out");
    options.stderr_path = held_dir.Join("err");
    absl::StatusOr<std::unique_ptr<testing::Subprocess>> cli =
        testing::Subprocess::Start(options);
    ASSERT_TRUE(cli.ok()) << cli.status();
    ASSERT_TRUE(testing::WaitFor([&] { return held_service.held(); },
                                 absl::Seconds(20)))
        << testing::ReadFileOrEmpty(held_dir.Join("err"));
    const std::string cmdline = testing::ReadFileOrEmpty(
        absl::StrCat("/proc/", (*cli)->pid(), "/cmdline"));
    held_service.Release();
    EXPECT_THAT(cmdline, HasSubstr("held.example"));  // it is the CLI's
    EXPECT_EQ(absl::StrContains(cmdline, kGoodToken), form.token_in_cmdline);
    absl::StatusOr<int> status = (*cli)->Wait(absl::Seconds(20));
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(WEXITSTATUS(*status), 0)
        << testing::ReadFileOrEmpty(held_dir.Join("err"));
    EXPECT_EQ(held_service.last_claim().token(), kGoodToken);
    server->Shutdown(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
  }
}

// ---- Absent values
// -----------------------------------------------------------

TEST_F(CloudlinkctlTest, AbsentValuesAreNullInGetStateAndAclkState) {
  // OnlineState has no node id, proxy or last_connect.
  const testing::RunResult text = Ctl({"get-state", "--socket", socket_});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("\nnode_id: null\n"));
  EXPECT_THAT(text.out, HasSubstr("\nproxy: null\n"));
  EXPECT_THAT(text.out, HasSubstr("\nlast_connect: null\n"));
  EXPECT_THAT(text.out, HasSubstr("\nclaim_source: null\n"));
  const testing::RunResult aclk = Ctl({"aclk-state", "--socket", socket_});
  ASSERT_EQ(aclk.exit_code, 0) << aclk.err;
  EXPECT_THAT(aclk.out, HasSubstr("\nNode Id: null\n"));
  EXPECT_THAT(aclk.out, HasSubstr("\nProxy: null\n"));
  EXPECT_THAT(aclk.out, HasSubstr("\nLast Connect: null\n"));
  EXPECT_THAT(aclk.out, HasSubstr("\nClaim Source: null\n"));
  EXPECT_THAT(text.out + aclk.out, Not(HasSubstr(": -\n")));
}

}  // namespace
}  // namespace cloudlink::client

// End to end: the real cloudlinkd and cloudlinkctl binaries, on a socket and
// config/lib directories under a short temporary directory. No cloud is
// involved: these are the daemon's own promises (state over the API, socket
// rules, reflection and health, config errors, signals).

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"  // protobuf SerializationTraits
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/version.h"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/testdata/grpc_probes.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::RunfilePath;
using ::cloudlink::testing::RunResult;
using ::cloudlink::testing::Subprocess;
using ::cloudlink::testing::SubprocessOptions;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
namespace probes = ::cloudlink::testing::probes;

constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kExitTimeout = absl::Seconds(15);
constexpr absl::Duration kCliTimeout = absl::Seconds(20);
constexpr char kToken[] = "claim-token-ZGFlbW9uLXRlc3Qtc2VjcmV0LTEyMzQ";

bool Connectable(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool IsSocket(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// A socket file with nobody accepting on it, as a killed daemon leaves.
void MakeStaleSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  ASSERT_TRUE(IsSocket(path));
}

std::string ExitText(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("signal ", WTERMSIG(wait_status));
  }
  return "?";
}

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() {
    mkdir(ConfigDir().c_str(), 0755);
    mkdir(LibDir().c_str(), 0755);
  }

  std::string SocketDir() const { return tmp_.Join("run"); }
  std::string Socket() const { return tmp_.Join("run/cl.sock"); }
  std::string ConfigDir() const { return tmp_.Join("etc"); }
  std::string LibDir() const { return tmp_.Join("lib"); }
  std::string ClaimConf() const { return ConfigDir() + "/claim.conf"; }

  // Starts cloudlinkd (stderr to `<name>.err`) without waiting for it, on
  // the test's socket and lib dir unless others are given.
  std::unique_ptr<Subprocess> Launch(
      const std::string& name, const std::string& socket = "",
      const std::string& lib_dir = "", std::vector<std::string> extra_args = {},
      std::map<std::string, std::string> env = {}) {
    // Nothing from the test's environment may claim or pick a proxy
    // (CloudlinkdCommand cleans it).
    CloudlinkdOptions places;
    places.socket_path = socket.empty() ? Socket() : socket;
    places.config_dir = ConfigDir();
    places.lib_dir = lib_dir.empty() ? LibDir() : lib_dir;
    places.log_level = "debug";
    places.extra_args = std::move(extra_args);
    places.env = std::move(env);
    const SubprocessOptions options =
        CloudlinkdCommand(places, tmp_.Join(name));
    absl::StatusOr<std::unique_ptr<Subprocess>> daemon =
        Subprocess::Start(options);
    EXPECT_TRUE(daemon.ok()) << daemon.status();
    return daemon.ok() ? *std::move(daemon) : nullptr;
  }

  // Starts cloudlinkd and waits (bounded) until it accepts on the socket.
  std::unique_ptr<Subprocess> StartDaemon(const std::string& name = "daemon") {
    std::unique_ptr<Subprocess> daemon = Launch(name);
    if (daemon == nullptr) return nullptr;
    const bool serving = testing::WaitFor(
        [&] { return !daemon->Running() || Connectable(Socket()); },
        kStartTimeout);
    EXPECT_TRUE(serving && daemon->Running())
        << "cloudlinkd did not start serving; stderr:\n"
        << daemon->Stderr();
    return daemon;
  }

  RunResult Ctl(std::vector<std::string> args, const std::string& socket = "") {
    SubprocessOptions options;
    options.argv = {RunfilePath("client/cloudlinkctl"), "--socket",
                    socket.empty() ? Socket() : socket};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.unset_env = {"CLOUDLINK_SOCKET"};
    absl::StatusOr<RunResult> result = testing::Run(options, kCliTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  }

  // Runs cloudlinkd with `args` alone, for command lines it exits on.
  RunResult Cloudlinkd(const std::vector<std::string>& args) {
    SubprocessOptions options;
    options.argv = {RunfilePath("server/cloudlinkd"), "--http-listen="};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    absl::StatusOr<RunResult> result = testing::Run(options, kExitTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  }

  nlohmann::json StateJson() {
    RunResult result = Ctl({"get-state", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    nlohmann::json state = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_TRUE(state.is_object()) << result.out;
    return state;
  }

  // Sends SIGTERM and returns the wait status (or -1 on timeout).
  int Terminate(Subprocess& daemon) {
    daemon.Signal(SIGTERM);
    absl::StatusOr<int> status = daemon.Wait(kExitTimeout);
    EXPECT_TRUE(status.ok()) << "cloudlinkd did not exit after SIGTERM";
    return status.ok() ? *status : -1;
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel("unix:" + Socket(),
                               grpc::InsecureChannelCredentials());
  }

  TempDir tmp_;
};

TEST_F(DaemonTest, GetStateJsonHasEveryFieldOfAnUnclaimedNode) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  nlohmann::json state = StateJson();
  ASSERT_TRUE(state.is_object());

  // Every field of State is present, zero values included.
  const google::protobuf::Descriptor* descriptor =
      cloudlink::v1::State::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    EXPECT_TRUE(state.contains(descriptor->field(i)->name()))
        << "missing " << descriptor->field(i)->name() << " in " << state;
  }
  const google::protobuf::Descriptor* counters =
      cloudlink::v1::PublishCounters::descriptor();
  ASSERT_TRUE(state["publish"].is_object()) << state;
  for (int i = 0; i < counters->field_count(); ++i) {
    EXPECT_TRUE(state["publish"].contains(counters->field(i)->name()))
        << "missing publish." << counters->field(i)->name();
  }

  EXPECT_EQ(state["status"], "available");
  EXPECT_EQ(state["claimed"], false);
  EXPECT_EQ(state["online"], false);
  EXPECT_EQ(state["insecure"], false);
  EXPECT_EQ(state["claimed_id"], "");
  EXPECT_EQ(state["node_id"], "");
  EXPECT_EQ(state["config_error"], "");
  EXPECT_EQ(state["claim_source"], "");
  EXPECT_EQ(state["rooms"], nlohmann::json::array());
  EXPECT_EQ(state["mqtt_version"], 0);
  EXPECT_EQ(state["reconnect_count"], "0");  // uint64 as a string
  EXPECT_EQ(state["publish"]["published"], "0");
  EXPECT_TRUE(state["last_connect"].is_null());
  EXPECT_EQ(state["aclk_available"], true);
  EXPECT_THAT(state["reason"].get<std::string>(), StartsWith("NOT_CLAIMED"));
  EXPECT_TRUE(state["since"].is_string());

  // The machine GUID was created on start and is the one on disk.
  const std::string guid = state["machine_guid"].get<std::string>();
  EXPECT_EQ(guid.size(), 36u) << guid;
  EXPECT_EQ(ReadFileOrEmpty(LibDir() + "/registry/netdata.public.unique.id"),
            guid);
  EXPECT_FALSE(FileExists(LibDir() + "/cloud.d/claimed_id"));
}

TEST_F(DaemonTest, AclkStatePrintsTheReferenceLines) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  RunResult result = Ctl({"aclk-state"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines = absl::StrSplit(result.out, '\n');
  ASSERT_GE(lines.size(), 8u) << result.out;
  const std::vector<std::string> head(lines.begin(), lines.begin() + 7);
  EXPECT_EQ(head, (std::vector<std::string>{
                      "ACLK Available: Yes",
                      "ACLK Implementation: Next Generation",
                      "New Cloud Protocol Support: Yes",
                      "Claimed: No",
                      "Claimed Id: null",
                      "Online: No",
                      "Used Cloud Protocol: New",
                  }))
      << result.out;
  EXPECT_THAT(lines, Contains("Status: available"));
  const std::string guid =
      ReadFileOrEmpty(LibDir() + "/registry/netdata.public.unique.id");
  EXPECT_THAT(lines, Contains("Machine GUID: " + guid));
  // Every line is "Key: value".
  for (const std::string& line : lines) {
    if (line.empty()) continue;
    EXPECT_THAT(line, HasSubstr(": ")) << line;
  }

  RunResult json = Ctl({"aclk-state", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json.out;
  EXPECT_EQ(parsed["machine_guid"], guid);
}

TEST_F(DaemonTest, SocketIs0660InA0750Directory) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(IsSocket(Socket()));
  EXPECT_EQ(FileMode(Socket()), 0660);
  EXPECT_EQ(FileMode(SocketDir()), 0750);
}

TEST_F(DaemonTest, ThePublishSocketSitsBesideTheApiSocketOrWhereToldOrNowhere) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(IsSocket(SocketDir() + "/publish.sock"));
  EXPECT_EQ(FileMode(SocketDir() + "/publish.sock"), 0660);
  EXPECT_EQ(WEXITSTATUS(Terminate(*daemon)), 0);
  EXPECT_FALSE(FileExists(SocketDir() + "/publish.sock"));

  const std::string elsewhere = tmp_.Join("pub/producers.sock");
  daemon = Launch("moved", "", "", {"--publish-socket=" + elsewhere});
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(
      testing::WaitFor([&] { return IsSocket(elsewhere); }, kStartTimeout))
      << daemon->Stderr();
  EXPECT_FALSE(FileExists(SocketDir() + "/publish.sock"));
  EXPECT_EQ(WEXITSTATUS(Terminate(*daemon)), 0);

  daemon = Launch("off", "", "", {"--publish-socket=off"});
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(
      testing::WaitFor([&] { return Connectable(Socket()); }, kStartTimeout))
      << daemon->Stderr();
  EXPECT_FALSE(FileExists(SocketDir() + "/publish.sock"));
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr("publish socket on")));
}

TEST_F(DaemonTest, ASecondDaemonOnTheSamePublishSocketExitsWithSocketInUse) {
  std::unique_ptr<Subprocess> first = StartDaemon("first");
  ASSERT_NE(first, nullptr);
  // Its own API socket and lib dir: only the publish socket is shared.
  std::unique_ptr<Subprocess> second =
      Launch("second", tmp_.Join("run2/cl.sock"), tmp_.Join("lib2"),
             {"--publish-socket=" + SocketDir() + "/publish.sock"});
  ASSERT_NE(second, nullptr);
  absl::StatusOr<int> status = second->Wait(kExitTimeout);
  ASSERT_TRUE(status.ok()) << "the second daemon kept running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
      << ExitText(*status);
  EXPECT_THAT(second->Stderr(), HasSubstr("SOCKET_IN_USE"));
  EXPECT_TRUE(first->Running());
  EXPECT_TRUE(IsSocket(SocketDir() + "/publish.sock"));
}

// Waits for the single outstanding operation on `cq`; false on timeout or a
// failed operation.
bool Step(grpc::CompletionQueue& cq, void* expected_tag) {
  void* tag = nullptr;
  bool ok = false;
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::seconds(10);
  if (cq.AsyncNext(&tag, &ok, deadline) !=
      grpc::CompletionQueue::NextStatus::GOT_EVENT) {
    return false;
  }
  return ok && tag == expected_tag;
}

void Drain(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

// One request/response exchange on grpc.reflection.v1alpha.
absl::StatusOr<probes::ServerReflectionResponse> Reflect(
    const std::shared_ptr<grpc::Channel>& channel,
    const probes::ServerReflectionRequest& request) {
  grpc::TemplatedGenericStub<probes::ServerReflectionRequest,
                             probes::ServerReflectionResponse>
      stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto stream = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  probes::ServerReflectionResponse response;
  grpc::Status status;
  int tags[5];
  bool ok = true;
  stream->StartCall(&tags[0]);
  ok = ok && Step(cq, &tags[0]);
  if (ok) stream->Write(request, &tags[1]);
  ok = ok && Step(cq, &tags[1]);
  if (ok) stream->Read(&response, &tags[2]);
  ok = ok && Step(cq, &tags[2]);
  if (ok) stream->WritesDone(&tags[3]);
  ok = ok && Step(cq, &tags[3]);
  stream->Finish(&status, &tags[4]);
  const bool finished = Step(cq, &tags[4]);
  Drain(cq);
  if (!finished || !status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("reflection call failed: ", status.error_message()));
  }
  if (!ok) return absl::UnavailableError("reflection stream broke");
  return response;
}

absl::StatusOr<probes::HealthCheckResponse> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  grpc::TemplatedGenericStub<probes::HealthCheckRequest,
                             probes::HealthCheckResponse>
      stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  probes::HealthCheckRequest request;
  request.set_service(service);
  auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check",
                                    request, &cq);
  call->StartCall();
  probes::HealthCheckResponse response;
  grpc::Status status;
  int tag;
  call->Finish(&response, &status, &tag);
  void* got;
  bool ok;
  cq.Next(&got, &ok);  // bounded by the context's deadline
  Drain(cq);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return response;
}

TEST_F(DaemonTest, ReflectionListsTheServiceAndServesItsDescriptor) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  probes::ServerReflectionRequest list;
  list.set_list_services("");
  absl::StatusOr<probes::ServerReflectionResponse> listed =
      Reflect(Channel(), list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE(listed->has_list_services_response()) << listed->DebugString();
  std::vector<std::string> names;
  for (const auto& service : listed->list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, Contains("cloudlink.v1.CloudLink"));
  EXPECT_THAT(names, Contains("grpc.health.v1.Health"));

  // A generic client can learn the methods from the descriptor.
  probes::ServerReflectionRequest by_symbol;
  by_symbol.set_file_containing_symbol("cloudlink.v1.CloudLink");
  absl::StatusOr<probes::ServerReflectionResponse> file =
      Reflect(Channel(), by_symbol);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->has_file_descriptor_response()) << file->DebugString();
  bool found = false;
  for (const std::string& bytes :
       file->file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto proto;
    ASSERT_TRUE(proto.ParseFromString(bytes));
    for (const auto& service : proto.service()) {
      if (proto.package() != "cloudlink.v1" || service.name() != "CloudLink") {
        continue;
      }
      found = true;
      std::vector<std::string> methods;
      for (const auto& method : service.method()) {
        methods.push_back(method.name());
      }
      EXPECT_THAT(methods, Contains("GetState"));
      EXPECT_THAT(methods, Contains("Claim"));
      EXPECT_THAT(methods, Contains("WatchState"));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(DaemonTest, HealthAnswersServing) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  absl::StatusOr<probes::HealthCheckResponse> health =
      CheckHealth(Channel(), "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status(), probes::HealthCheckResponse::SERVING);
  // The probe messages really are the wire format: an unknown service is
  // NOT_FOUND, as grpc.health.v1 specifies.
  absl::StatusOr<probes::HealthCheckResponse> unknown =
      CheckHealth(Channel(), "no.such.Service");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
}

// The google.rpc.ErrorInfo in `status`'s details (grpc-status-details-bin),
// after checking the google.rpc.Status around it repeats code and message.
absl::StatusOr<google::rpc::ErrorInfo> ErrorInfoOf(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return absl::NotFoundError("no google.rpc.Status in the details");
  }
  EXPECT_EQ(details.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(details.message(), status.error_message());
  if (details.details_size() != 1 ||
      !details.details(0).Is<google::rpc::ErrorInfo>()) {
    return absl::NotFoundError("not exactly one ErrorInfo");
  }
  google::rpc::ErrorInfo info;
  if (!details.details(0).UnpackTo(&info)) {
    return absl::DataLossError("the ErrorInfo does not parse");
  }
  return info;
}

TEST_F(DaemonTest, ErrorsCarryTheirReasonAsErrorInfo) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  std::unique_ptr<cloudlink::v1::CloudLink::Stub> stub =
      cloudlink::v1::CloudLink::NewStub(Channel());
  auto claim = [&](const cloudlink::v1::ClaimRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    cloudlink::v1::ClaimResponse response;
    return stub->Claim(&context, request, &response);
  };

  // A handler's error: the reason that starts the message, as ErrorInfo.
  cloudlink::v1::ClaimRequest empty_token;
  const grpc::Status refused = claim(empty_token);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), StartsWith("TOKEN_INVALID_FORMAT: "));
  absl::StatusOr<google::rpc::ErrorInfo> info = ErrorInfoOf(refused);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->reason(), "TOKEN_INVALID_FORMAT");
  EXPECT_EQ(info->domain(), "cloudlink.v1");
  EXPECT_TRUE(info->metadata().empty());

  // A request that does not parse (invalid UTF-8 in a string field) is
  // answered by the interceptor, with details as well.
  cloudlink::v1::ClaimRequest malformed;
  malformed.set_token("ab\xff\xfe");
  const grpc::Status not_parsed = claim(malformed);
  EXPECT_EQ(not_parsed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(not_parsed.error_message(), StartsWith("REQUEST_MALFORMED: "));
  info = ErrorInfoOf(not_parsed);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->reason(), "REQUEST_MALFORMED");
  EXPECT_EQ(info->domain(), "cloudlink.v1");

  // gRPC's own errors have no reason of ours and no details.
  grpc::ClientContext expired;
  expired.set_deadline(std::chrono::system_clock::now() -
                       std::chrono::seconds(1));
  cloudlink::v1::GetStateRequest get_state;
  cloudlink::v1::State state;
  const grpc::Status late = stub->GetState(&expired, get_state, &state);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_FALSE(ErrorInfoOf(late).ok());
}

TEST_F(DaemonTest, MalformedClaimConfKeepsServingAndNamesFileAndLine) {
  struct Case {
    std::string name;
    std::string text;
    int line;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"unknown key",
       absl::StrCat("[global]\n  token = ", kToken, "\n  tokn = x\n"), 3,
       "CONFIG_INVALID"},
      {"bad boolean",
       absl::StrCat("# comment\n[global]\n  token = ", kToken,
                    "\n  insecure = maybe\n"),
       4, "CONFIG_INVALID"},
      {"https proxy",
       absl::StrCat("[global]\n  token = ", kToken,
                    "\n  proxy = https://bob:pw@proxy.example:3128\n"),
       3, "PROXY_UNSUPPORTED"},
      {"empty token", "[global]\n  url = https://cloud.example\n  token =\n", 3,
       "CONFIG_INVALID"},
  };
  // The first case is there at start; the others come with a reload.
  ASSERT_TRUE(WriteFile(ClaimConf(), cases[0].text).ok());
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(c.name);
    if (i > 0) {
      ASSERT_TRUE(WriteFile(ClaimConf(), c.text).ok());
      RunResult reload = Ctl({"reload-claiming-state", "--wait-seconds", "2"});
      // Read, and not online (the config is wrong): exit 4.
      EXPECT_EQ(reload.exit_code, 4) << reload.err;
      EXPECT_THAT(reload.err, HasSubstr("STATE_NOT_REACHED"));
    }
    nlohmann::json state = StateJson();
    const std::string where = absl::StrCat(ClaimConf(), ":", c.line);
    const std::string config_error = state["config_error"].get<std::string>();
    EXPECT_THAT(config_error, StartsWith(c.reason)) << config_error;
    EXPECT_THAT(config_error, HasSubstr(where));
    EXPECT_THAT(state["reason"].get<std::string>(), HasSubstr(where));
    EXPECT_EQ(state["status"], "available");
    EXPECT_EQ(state["claimed"], false);
    EXPECT_THAT(config_error, Not(HasSubstr(kToken)));
    EXPECT_THAT(config_error, Not(HasSubstr(":pw@")));
  }
  EXPECT_TRUE(daemon->Running());
  EXPECT_FALSE(FileExists(LibDir() + "/cloud.d/claimed_id"));
  const std::string log = daemon->Stderr();
  EXPECT_THAT(log, HasSubstr("CLAIM: CONFIG_INVALID: " + ClaimConf() + ":3"));
  EXPECT_THAT(log, Not(HasSubstr(kToken)));
  EXPECT_THAT(log, Not(HasSubstr(":pw@")));
}

TEST_F(DaemonTest, AClaimConfWithATokenThatEveryUserMayReadIsWarnedAbout) {
  ASSERT_TRUE(WriteFile(ClaimConf(),
                        absl::StrCat("[global]\n    url = https://127.0.0.1:1\n"
                                     "    token = ",
                                     kToken, "\n    proxy = none\n"))
                  .ok());
  ASSERT_EQ(chmod(ClaimConf().c_str(), 0644), 0);
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return absl::StrContains(
            daemon->Stderr(),
            "CLAIM: " + ClaimConf() +
                " holds the claim token and every user may read it; fix: "
                "chmod o-r " +
                ClaimConf());
      },
      absl::Seconds(5)))
      << daemon->Stderr();
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr(kToken)));
}

TEST_F(DaemonTest, SigtermExitsZeroAndRemovesTheSocket) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  // An open WatchState stream must not hold up the shutdown.
  SubprocessOptions watch;
  watch.argv = {RunfilePath("client/cloudlinkctl"), "--socket", Socket(),
                "watch-state", "--json"};
  watch.stdout_path = tmp_.Join("watch.out");
  absl::StatusOr<std::unique_ptr<Subprocess>> watcher =
      Subprocess::Start(watch);
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !ReadFileOrEmpty(tmp_.Join("watch.out")).empty(); },
      kCliTimeout))
      << "watch-state printed nothing";

  const absl::Time start = absl::Now();
  const int status = Terminate(*daemon);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ExitText(status) << "\n"
      << daemon->Stderr();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(FileExists(Socket()));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("cloudlinkd: stopped"));
  // The watcher's stream ended with the daemon.
  EXPECT_TRUE((*watcher)->Wait(kExitTimeout).ok());
}

// gRPC's shutdown can block for ever (it did under a task limit, CI's
// ApiLimitsTest): the stop waits 5 s for calls and 3 s more for gRPC, then
// goes on without it, removes the sockets and exits 0. The test flag makes
// the API's shutdown block every time.
TEST_F(DaemonTest, SigtermEndsTheDaemonEvenWhenTheApiShutdownHangs) {
  std::unique_ptr<Subprocess> daemon =
      Launch("hangs", "", "", {"--test_api_shutdown_hangs"});
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !daemon->Running() || Connectable(Socket()); },
      kStartTimeout))
      << daemon->Stderr();
  const absl::Time start = absl::Now();
  const int status = Terminate(*daemon);
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ExitText(status) << "\n"
      << daemon->Stderr();
  EXPECT_GE(took, absl::Seconds(8));
  EXPECT_LT(took, kExitTimeout);
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("ERROR API: gRPC has not stopped 8s after the shutdown "
                        "began (calls in progress were cancelled after 5s); "
                        "stopping without it"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("cloudlinkd: stopped"));
  EXPECT_FALSE(FileExists(Socket()));
  EXPECT_FALSE(FileExists(SocketDir() + "/publish.sock"));
}

TEST_F(DaemonTest, SecondDaemonOnTheSameSocketExitsWithSocketInUse) {
  std::unique_ptr<Subprocess> first = StartDaemon("first");
  ASSERT_NE(first, nullptr);
  const std::string guid =
      ReadFileOrEmpty(LibDir() + "/registry/netdata.public.unique.id");

  // Its own lib dir, so that the socket, not the lib dir's lock, refuses it.
  std::unique_ptr<Subprocess> second =
      Launch("second", Socket(), tmp_.Join("lib2"));
  ASSERT_NE(second, nullptr);
  absl::StatusOr<int> status = second->Wait(kExitTimeout);
  ASSERT_TRUE(status.ok()) << "the second daemon kept running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
      << ExitText(*status);
  EXPECT_THAT(second->Stderr(), HasSubstr("SOCKET_IN_USE"));

  // The first one is untouched and still serving.
  EXPECT_TRUE(first->Running());
  EXPECT_TRUE(IsSocket(Socket()));
  nlohmann::json state = StateJson();
  EXPECT_EQ(state["machine_guid"], guid);
}

// Every path under `dir` with its type, size and mtime, one per line.
std::string Tree(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0) continue;
    absl::StrAppend(&out, it->path().string(), " ", st.st_mode, " ",
                    S_ISDIR(st.st_mode) ? 0 : st.st_size, " ",
                    st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "\n");
  }
  return out;
}

TEST_F(DaemonTest, SecondDaemonOnTheSameLibDirExitsWithInstanceRunning) {
  std::unique_ptr<Subprocess> first = StartDaemon("first");
  ASSERT_NE(first, nullptr);
  const std::string guid =
      ReadFileOrEmpty(LibDir() + "/registry/netdata.public.unique.id");
  const std::string lib_before = Tree(LibDir());
  ASSERT_THAT(lib_before, HasSubstr("cloudlinkd.lock"));

  // Another socket: only the lib dir is shared.
  const std::string other_socket = tmp_.Join("run2/cl.sock");
  std::unique_ptr<Subprocess> second = Launch("second", other_socket);
  ASSERT_NE(second, nullptr);
  absl::StatusOr<int> status = second->Wait(kExitTimeout);
  ASSERT_TRUE(status.ok()) << "the second daemon kept running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
      << ExitText(*status);
  const std::string log = second->Stderr();
  EXPECT_THAT(log, HasSubstr("INSTANCE_RUNNING"));
  EXPECT_THAT(log, HasSubstr(absl::StrCat("pid ", first->pid())));
  EXPECT_THAT(log, HasSubstr(LibDir()));

  // No side effects: nothing in the lib dir changed, no socket directory.
  EXPECT_EQ(Tree(LibDir()), lib_before);
  EXPECT_FALSE(FileExists(tmp_.Join("run2")));
  EXPECT_TRUE(first->Running());
  EXPECT_EQ(StateJson()["machine_guid"], guid);

  // Once the holder is gone (even by SIGKILL) the lib dir is free again.
  first->Signal(SIGKILL);
  ASSERT_TRUE(first->Wait(kExitTimeout).ok());
  std::unique_ptr<Subprocess> third = StartDaemon("third");
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(ReadFileOrEmpty(LibDir() + "/cloudlinkd.lock"),
            absl::StrCat(third->pid(), "\n"));
  EXPECT_EQ(Terminate(*third), 0);
}

// The refused daemon created nothing even where the lib dir did not exist
// before the first daemon made it.
TEST_F(DaemonTest, RefusedDaemonCreatesNoSpool) {
  const std::string fresh = tmp_.Join("fresh-lib");
  std::unique_ptr<Subprocess> first = Launch("first", Socket(), fresh);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !first->Running() || Connectable(Socket()); },
      kStartTimeout))
      << first->Stderr();
  ASSERT_TRUE(FileExists(fresh + "/cloud.d/spool"));
  // Removing the spool shows whether the second daemon makes it again.
  std::error_code ec;
  std::filesystem::remove_all(fresh + "/cloud.d/spool", ec);
  ASSERT_FALSE(ec) << ec.message();
  std::unique_ptr<Subprocess> second =
      Launch("second", tmp_.Join("run3/cl.sock"), fresh);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->Wait(kExitTimeout).ok());
  EXPECT_THAT(second->Stderr(), HasSubstr("INSTANCE_RUNNING"));
  EXPECT_FALSE(FileExists(fresh + "/cloud.d/spool"));
}

// ---- Signals ---------------------------------------------------------------

TEST_F(DaemonTest, SighupReloadsTheClaimingStateAndKeepsServing) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(StateJson()["config_error"], "");
  // A claim.conf written after the start is read on SIGHUP, as the
  // ReloadClaimingState call reads it.
  ASSERT_TRUE(WriteFile(ClaimConf(), absl::StrCat("[global]\n  token = ",
                                                  kToken, "\n  tokn = x\n"))
                  .ok());
  daemon->Signal(SIGHUP);
  nlohmann::json state;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        if (!daemon->Running()) return true;
        state = StateJson();
        return absl::StartsWith(state["config_error"].get<std::string>(),
                                "CONFIG_INVALID");
      },
      kCliTimeout))
      << state;
  ASSERT_TRUE(daemon->Running()) << daemon->Stderr();
  EXPECT_THAT(state["config_error"].get<std::string>(),
              HasSubstr(ClaimConf() + ":3"));
  const std::string log = daemon->Stderr();
  EXPECT_THAT(log, HasSubstr("cloudlinkd: SIGHUP, reloading: log file, "
                             "claiming state"));
  EXPECT_THAT(log, HasSubstr("CLAIM: reloading claiming state"));
  EXPECT_THAT(log, HasSubstr("cloudlinkd: reloaded"));
  EXPECT_TRUE(IsSocket(Socket()));
  EXPECT_EQ(Terminate(*daemon), 0);
}

TEST_F(DaemonTest, SigpipeIsIgnoredAndSigintStops) {
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  daemon->Signal(SIGPIPE);
  daemon->Signal(SIGPIPE);
  // Still serving after the signals were delivered (get-state is answered
  // after them: signals to a process are delivered before kill() returns
  // when not blocked, and SIGPIPE is never blocked).
  EXPECT_EQ(Ctl({"get-state"}).exit_code, 0);
  EXPECT_TRUE(daemon->Running());

  daemon->Signal(SIGINT);
  absl::StatusOr<int> status = daemon->Wait(kExitTimeout);
  ASSERT_TRUE(status.ok()) << "cloudlinkd did not exit after SIGINT";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << ExitText(*status);
  EXPECT_FALSE(FileExists(Socket()));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("cloudlinkd: stopped"));
}

// ---- Logs and the process ---------------------------------------------------

TEST_F(DaemonTest, LogFileTakesTheLinesAndIsReopenedOnSighup) {
  const std::string log_file = tmp_.Join("cloudlinkd.log");
  std::unique_ptr<Subprocess> daemon =
      Launch("daemon", "", "", {"--log-file=" + log_file});
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !daemon->Running() || Connectable(Socket()); },
      kStartTimeout));
  ASSERT_TRUE(daemon->Running()) << daemon->Stderr();
  EXPECT_THAT(ReadFileOrEmpty(log_file), HasSubstr("cloudlinkd starting"));
  EXPECT_EQ(FileMode(log_file), 0640);
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr("cloudlinkd starting")));

  // As logrotate does: move the file away, then SIGHUP.
  const std::string rotated = log_file + ".1";
  ASSERT_EQ(rename(log_file.c_str(), rotated.c_str()), 0);
  daemon->Signal(SIGHUP);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return absl::StrContains(ReadFileOrEmpty(log_file),
                                 "cloudlinkd: reloaded");
      },
      kCliTimeout))
      << ReadFileOrEmpty(rotated);
  EXPECT_THAT(ReadFileOrEmpty(rotated), HasSubstr("cloudlinkd starting"));
  EXPECT_THAT(ReadFileOrEmpty(log_file), Not(HasSubstr("cloudlinkd starting")));
  EXPECT_EQ(Terminate(*daemon), 0);
  EXPECT_THAT(ReadFileOrEmpty(log_file), HasSubstr("cloudlinkd: stopped"));
}

// JOURNAL_STREAM as systemd sets it for a service whose stderr is the
// journal: "DEVICE:INODE" of that stream.
std::string JournalStreamOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_dev, ":", st.st_ino);
}

TEST_F(DaemonTest, JournalPriorityPrefixesOnlyWhenStderrIsTheJournal) {
  // The file the daemon's stderr will be (Subprocess truncates it in place,
  // keeping its inode).
  const std::string err = tmp_.Join("journal.err");
  ASSERT_TRUE(WriteFile(err, "").ok());
  std::unique_ptr<Subprocess> daemon =
      Launch("journal", "", "", {}, {{"JOURNAL_STREAM", JournalStreamOf(err)}});
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !daemon->Running() || Connectable(Socket()); },
      kStartTimeout));
  ASSERT_TRUE(daemon->Running()) << daemon->Stderr();
  const std::string log = ReadFileOrEmpty(err);
  EXPECT_THAT(log, HasSubstr("<6>INFO cloudlinkd starting"));
  EXPECT_THAT(log, HasSubstr("<7>DEBUG "));
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line), StartsWith("<")) << line;
  }

  // A refused second daemon: its error has priority 3 when its stderr is
  // the journal, and a timestamp when JOURNAL_STREAM names another stream
  // (a child that inherited the variable but not the stream).
  const std::string second_err = tmp_.Join("second.err");
  ASSERT_TRUE(WriteFile(second_err, "").ok());
  std::unique_ptr<Subprocess> second =
      Launch("second", tmp_.Join("run2/cl.sock"), "", {},
             {{"JOURNAL_STREAM", JournalStreamOf(second_err)}});
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->Wait(kExitTimeout).ok());
  EXPECT_THAT(second->Stderr(),
              HasSubstr("\n<3>ERROR cloudlinkd: INSTANCE_RUNNING"));
  std::unique_ptr<Subprocess> third =
      Launch("third", tmp_.Join("run3/cl.sock"), "", {},
             {{"JOURNAL_STREAM", JournalStreamOf(err)}});
  ASSERT_NE(third, nullptr);
  ASSERT_TRUE(third->Wait(kExitTimeout).ok());
  for (absl::string_view line :
       absl::StrSplit(third->Stderr(), '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line), StartsWith("20")) << line;
  }
  EXPECT_THAT(third->Stderr(),
              HasSubstr(" ERROR cloudlinkd: INSTANCE_RUNNING"));
}

// gRPC's own lines in its own format ("I1206 06:52:56.190 ... file.cc:121]")
// on `text`'s lines, if any.
std::string RawGrpcLine(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.size() > 6 && absl::StrContains("DIWE", line.substr(0, 1)) &&
        std::all_of(line.begin() + 1, line.begin() + 5,
                    [](char c) { return c >= '0' && c <= '9'; }) &&
        line[5] == ' ') {
      return std::string(line);
    }
  }
  return "";
}

TEST_F(DaemonTest, GrpcLinesGoThroughOurLogInDaemonAndCli) {
  // GRPC_VERBOSITY=INFO makes gRPC log at start and on connects.
  std::unique_ptr<Subprocess> daemon =
      Launch("daemon", "", "", {}, {{"GRPC_VERBOSITY", "INFO"}});
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !daemon->Running() || Connectable(Socket()); },
      kStartTimeout));
  ASSERT_TRUE(daemon->Running()) << daemon->Stderr();
  EXPECT_THAT(daemon->Stderr(), HasSubstr(" DEBUG GRPC: "));
  EXPECT_EQ(RawGrpcLine(daemon->Stderr()), "");

  auto cli = [&](std::map<std::string, std::string> env) {
    SubprocessOptions options;
    options.argv = {RunfilePath("client/cloudlinkctl"), "--socket",
                    tmp_.Join("nothing.sock"), "get-state"};
    options.unset_env = {"CLOUDLINK_SOCKET"};
    if (env.count("CLOUDLINK_LOG_LEVEL") == 0) {
      options.unset_env.push_back("CLOUDLINK_LOG_LEVEL");
    }
    env["GRPC_VERBOSITY"] = "INFO";
    options.env = std::move(env);
    absl::StatusOr<RunResult> result = testing::Run(options, kCliTimeout);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RunResult{};
  };
  // By default the CLI's own message only (its exit code is its own).
  const RunResult quiet = cli({});
  EXPECT_EQ(quiet.exit_code, 3) << quiet.err;
  EXPECT_EQ(RawGrpcLine(quiet.err), "") << quiet.err;
  EXPECT_THAT(quiet.err, Not(HasSubstr("GRPC:")));
  EXPECT_THAT(quiet.err, HasSubstr("DAEMON_UNREACHABLE"));
  // CLOUDLINK_LOG_LEVEL=debug shows gRPC's lines, in our format.
  const RunResult verbose = cli({{"CLOUDLINK_LOG_LEVEL", "debug"}});
  EXPECT_EQ(verbose.exit_code, 3);
  EXPECT_THAT(verbose.err, HasSubstr(" DEBUG GRPC: "));
  EXPECT_EQ(RawGrpcLine(verbose.err), "") << verbose.err;
  EXPECT_EQ(Terminate(*daemon), 0);
}

// /proc/PID/limits' row for `name`: its soft and hard values.
std::pair<std::string, std::string> Limit(pid_t pid, const std::string& name) {
  std::ifstream limits(absl::StrCat("/proc/", pid, "/limits"));
  std::string line;
  while (std::getline(limits, line)) {
    if (!absl::StartsWith(line, name)) continue;
    std::vector<std::string> fields =
        absl::StrSplit(line.substr(name.size()), ' ', absl::SkipEmpty());
    if (fields.size() >= 2) return {fields[0], fields[1]};
  }
  return {"", ""};
}

TEST_F(DaemonTest, NoCoreDumpsAllOpenFilesAndTheRootDirectory) {
  // Started with a core limit and a low open-files soft limit, as a shell
  // or a service manager might.
  CloudlinkdOptions hygiene;
  hygiene.socket_path = Socket();
  hygiene.config_dir = ConfigDir();
  hygiene.lib_dir = LibDir();
  SubprocessOptions options = CloudlinkdCommand(hygiene, tmp_.Join("hygiene"));
  options.argv.insert(options.argv.begin(),
                      {"/bin/sh", "-c",
                       "ulimit -S -c unlimited 2>/dev/null; ulimit -S -n 256 "
                       "&& exec \"$0\" \"$@\""});
  absl::StatusOr<std::unique_ptr<Subprocess>> started =
      Subprocess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  Subprocess& daemon = **started;
  ASSERT_TRUE(testing::WaitFor(
      [&] { return !daemon.Running() || Connectable(Socket()); },
      kStartTimeout));
  ASSERT_TRUE(daemon.Running()) << daemon.Stderr();

  EXPECT_EQ(Limit(daemon.pid(), "Max core file size"),
            std::make_pair(std::string("0"), std::string("0")));
  const auto files = Limit(daemon.pid(), "Max open files");
  EXPECT_EQ(files.first, files.second);
  EXPECT_NE(files.first, "256");
  char cwd[4096] = {0};
  ASSERT_GT(readlink(absl::StrCat("/proc/", daemon.pid(), "/cwd").c_str(), cwd,
                     sizeof(cwd) - 1),
            0);
  EXPECT_STREQ(cwd, "/");
  EXPECT_EQ(Terminate(daemon), 0);
}

// The scheduling policy (Linux's numbering) of each of `pid`'s threads,
// field 41 of /proc/PID/task/TID/stat.
std::vector<int> ThreadPolicies(int pid) {
  std::vector<int> policies;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    const std::string stat = ReadFileOrEmpty(entry.path().string() + "/stat");
    const size_t comm_end = stat.rfind(')');
    if (comm_end == std::string::npos) continue;  // the thread ended
    const std::vector<std::string> fields =
        absl::StrSplit(stat.substr(comm_end + 2), ' ', absl::SkipEmpty());
    if (fields.size() > 38) policies.push_back(std::stoi(fields[38]));
  }
  return policies;
}

constexpr int kSchedOther = 0;
constexpr int kSchedBatch = 3;
constexpr int kSchedIdle = 5;

class SchedulingPolicyTest : public DaemonTest {
 protected:
  // Starts cloudlinkd with `flags` through `wrapper` (a shell command that
  // ends by exec'ing "$0" "$@"), waits for its socket and one call, so that
  // the API's threads exist.
  std::unique_ptr<Subprocess> StartWith(const std::string& wrapper,
                                        std::vector<std::string> flags) {
    CloudlinkdOptions daemon;
    daemon.socket_path = Socket();
    daemon.config_dir = ConfigDir();
    daemon.lib_dir = LibDir();
    daemon.extra_args = std::move(flags);
    SubprocessOptions options =
        CloudlinkdCommand(daemon, tmp_.Join("scheduling"));
    options.argv.insert(options.argv.begin(), {"/bin/sh", "-c", wrapper});
    absl::StatusOr<std::unique_ptr<Subprocess>> started =
        Subprocess::Start(options);
    EXPECT_TRUE(started.ok()) << started.status();
    if (!started.ok()) return nullptr;
    EXPECT_TRUE(testing::WaitFor(
        [&] { return !(*started)->Running() || Connectable(Socket()); },
        kStartTimeout));
    EXPECT_TRUE((*started)->Running()) << (*started)->Stderr();
    EXPECT_EQ(Ctl({"get-state"}).exit_code, 0) << (*started)->Stderr();
    return *std::move(started);
  }
};

TEST_F(SchedulingPolicyTest, EveryThreadRunsBatchByDefault) {
  // Started as SCHED_OTHER, as a shell or systemd starts it.
  std::unique_ptr<Subprocess> daemon =
      StartWith("exec chrt -o 0 \"$0\" \"$@\"", {});
  ASSERT_NE(daemon, nullptr);
  const std::vector<int> policies = ThreadPolicies(daemon->pid());
  EXPECT_GT(policies.size(), 3u);
  EXPECT_THAT(policies, ::testing::Each(kSchedBatch));
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("cloudlinkd: scheduling policy batch"));
  EXPECT_EQ(Terminate(*daemon), 0);
}

TEST_F(SchedulingPolicyTest, OtherIdleAndKeepAreHonoured) {
  struct Case {
    const char* started_as;  // chrt's option
    const char* flag;
    int expected;
  };
  for (const Case& c : {Case{"-b", "--scheduling-policy=other", kSchedOther},
                        Case{"-o", "--scheduling-policy=idle", kSchedIdle},
                        Case{"-i", "--scheduling-policy=keep", kSchedIdle}}) {
    SCOPED_TRACE(c.flag);
    std::unique_ptr<Subprocess> daemon = StartWith(
        absl::StrCat("exec chrt ", c.started_as, " 0 \"$0\" \"$@\""), {c.flag});
    ASSERT_NE(daemon, nullptr);
    EXPECT_THAT(ThreadPolicies(daemon->pid()), ::testing::Each(c.expected));
    EXPECT_EQ(Terminate(*daemon), 0);
  }
}

// Without CAP_SYS_NICE and with RLIMIT_NICE 0, a process started as
// SCHED_IDLE may not leave it: cloudlinkd says so and runs on, unchanged.
TEST_F(SchedulingPolicyTest, ARefusedPolicyIsAWarningAndChangesNothing) {
  std::unique_ptr<Subprocess> daemon = StartWith(
      "exec prlimit --nice=0:0 chrt -i 0 setpriv --bounding-set=-sys_nice "
      "--inh-caps=-sys_nice \"$0\" \"$@\"",
      {});
  ASSERT_NE(daemon, nullptr);
  EXPECT_THAT(ThreadPolicies(daemon->pid()), ::testing::Each(kSchedIdle));
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("WARNING cloudlinkd: scheduling policy batch not set, "
                        "the policy stays as started: "));
  EXPECT_EQ(Terminate(*daemon), 0);
}

TEST_F(DaemonTest, StaleSocketFileIsReplaced) {
  ASSERT_EQ(mkdir(SocketDir().c_str(), 0750), 0);
  MakeStaleSocket(Socket());
  ASSERT_FALSE(Connectable(Socket()));
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(Ctl({"get-state"}).exit_code, 0);
  EXPECT_EQ(FileMode(Socket()), 0660);
  EXPECT_THAT(daemon->Stderr(), HasSubstr("stale socket"));
}

TEST_F(DaemonTest, RegularFileAtTheSocketPathIsRefused) {
  ASSERT_EQ(mkdir(SocketDir().c_str(), 0750), 0);
  ASSERT_TRUE(WriteFile(Socket(), "not a socket").ok());
  std::unique_ptr<Subprocess> daemon = Launch("daemon");
  ASSERT_NE(daemon, nullptr);
  absl::StatusOr<int> status = daemon->Wait(kExitTimeout);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
  EXPECT_THAT(daemon->Stderr(), HasSubstr("SOCKET_PATH_INVALID"));
  EXPECT_EQ(ReadFileOrEmpty(Socket()), "not a socket");
}

// A cloud.d made in advance, writable by everyone and owned by another user,
// who put their own cloud.conf (their URL, insecure) in it: the daemon does
// not start on it, naming the directory and the fix.
TEST_F(DaemonTest, AnUnsafeCloudDirStopsTheStart) {
  const std::string cloud_dir = LibDir() + "/cloud.d";
  ASSERT_EQ(mkdir(cloud_dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(cloud_dir.c_str(), 0777), 0);
  const bool chowned =
      geteuid() == 0 && chown(cloud_dir.c_str(), 65534, 65534) == 0;
  ASSERT_TRUE(
      WriteFile(cloud_dir + "/cloud.conf",
                "[global]\n"
                "    url = https://attacker.invalid\n"
                "    insecure = yes\n"
                "    claimed_id = 0f3c4e1a-6b7d-4c8e-9f00-112233445566\n")
          .ok());
  ASSERT_TRUE(WriteFile(cloud_dir + "/claimed_id",
                        "0f3c4e1a-6b7d-4c8e-9f00-112233445566\n")
                  .ok());
  std::unique_ptr<Subprocess> daemon = Launch("daemon");
  ASSERT_NE(daemon, nullptr);
  absl::StatusOr<int> status = daemon->Wait(kExitTimeout);
  ASSERT_TRUE(status.ok()) << "cloudlinkd kept running on an unsafe cloud.d";
  EXPECT_EQ(ExitText(*status), "exit 1");
  const std::string log = daemon->Stderr();
  EXPECT_THAT(log, HasSubstr("STATE_DIR_UNSAFE: " + cloud_dir));
  if (chowned) {
    EXPECT_THAT(log, HasSubstr("is owned by uid 65534"));
    EXPECT_THAT(log, HasSubstr("chown root " + cloud_dir));
  } else {
    EXPECT_THAT(log, HasSubstr("chmod o-w " + cloud_dir));
  }
  EXPECT_THAT(log, Not(HasSubstr("attacker.invalid")));
  EXPECT_FALSE(FileExists(Socket()));
}

// A spool segment that is a link to another file: the root daemon neither
// truncates nor writes the file, and keeps running.
TEST_F(DaemonTest, ASymlinkedSpoolSegmentLeavesItsTargetUnchanged) {
  const std::string spool_dir = LibDir() + "/cloud.d/spool";
  ASSERT_EQ(mkdir((LibDir() + "/cloud.d").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(spool_dir.c_str(), 0700), 0);
  const std::string victim = tmp_.Join("victim.txt");
  const std::string precious = "root's precious file\nsecond line\n";
  ASSERT_TRUE(WriteFile(victim, precious).ok());
  ASSERT_EQ(chmod(victim.c_str(), 0644), 0);
  const std::string link = spool_dir + "/seg-00000000000000000001.log";
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);

  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return absl::StrContains(daemon->Stderr(), link) &&
               absl::StrContains(daemon->Stderr(), "symbolic link");
      },
      absl::Seconds(5)))
      << daemon->Stderr();
  // A durable publish would create the first segment under the link's name.
  SubprocessOptions publish;
  publish.argv = {RunfilePath("client/cloudlinkctl"),
                  "--socket",
                  Socket(),
                  "publish",
                  "--id",
                  "1",
                  "--topic",
                  "alarm-log",
                  "--payload",
                  "aGk=",
                  "--level",
                  "DELIVERY_LEVEL_DURABLE"};
  publish.unset_env = {"CLOUDLINK_SOCKET"};
  absl::StatusOr<RunResult> published = testing::Run(publish, kCliTimeout);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_THAT(published->out + published->err, HasSubstr("SPOOL_WRITE_FAILED"));
  // The failed ack counts in GetState's publish counters.
  nlohmann::json state = StateJson();
  EXPECT_EQ(state["publish"]["failed"], "1") << state.dump(2);
  EXPECT_EQ(ReadFileOrEmpty(victim), precious);
  EXPECT_EQ(FileMode(victim), 0644);
  struct stat st;
  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_TRUE(daemon->Running());
  EXPECT_EQ(Terminate(*daemon), 0);
}

TEST_F(DaemonTest, CliExitsThreeWhenNoDaemonIsRunning) {
  // No socket at all.
  RunResult missing = Ctl({"get-state"});
  EXPECT_EQ(missing.exit_code, 3) << missing.out << missing.err;
  EXPECT_THAT(missing.err, HasSubstr(Socket()));
  // A socket file left behind by a dead daemon.
  ASSERT_EQ(mkdir(SocketDir().c_str(), 0750), 0);
  MakeStaleSocket(Socket());
  RunResult stale = Ctl({"aclk-state"});
  EXPECT_EQ(stale.exit_code, 3) << stale.out << stale.err;
  // And after a daemon stopped.
  std::unique_ptr<Subprocess> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ASSERT_EQ(Ctl({"get-state"}).exit_code, 0);
  Terminate(*daemon);
  EXPECT_EQ(Ctl({"get-state", "--json"}).exit_code, 3);
}

// ---- The command line (Abseil flags) ---------------------------------------

TEST_F(DaemonTest, VersionAndHelpExitZero) {
  const RunResult version = Cloudlinkd({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out, absl::StrCat("cloudlinkd ", kVersion, "\n"));

  const RunResult help = Cloudlinkd({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  for (const char* flag :
       {"--socket", "--config-dir", "--lib-dir", "--cloud-ca", "--log-level",
        "--queue-bytes", "--spool-bytes", "--admin-group", "--listen",
        "--tls-cert", "--tls-key", "--tls-client-ca",
        "--tls-allowed-subjects"}) {
    EXPECT_THAT(help.out, HasSubstr(flag)) << help.out;
  }
  EXPECT_THAT(help.out, HasSubstr(R"(default: "/etc/cloudlink")"));
  EXPECT_THAT(help.out, Not(HasSubstr("config_dir")));
  EXPECT_EQ(Cloudlinkd({"-h"}).out, help.out);
  EXPECT_EQ(Cloudlinkd({"--helpfull"}).exit_code, 0);
}

TEST_F(DaemonTest, FlagErrorsExitTwoNamingTheFlagAndTheFix) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {{"--no-such-flag=1"}, {"--no-such-flag", "cloudlinkd --help"}},
      {{"--queue-bytes=lots"}, {"--queue-bytes", "a positive number"}},
      {{"--spool_bytes=0"}, {"--spool-bytes must be a positive number"}},
      {{"--log-level=loud"},
       {"--log-level", "must be debug, info, warning or error"}},
      {{"--scheduling-policy=fifo"},
       {"--scheduling-policy", "must be batch, other, idle or keep"}},
      {{"--admin-group="}, {"--admin-group needs a group name"}},
      {{"--socket"}, {"--socket", "the API's Unix socket"}},
      {{"stray"}, {"unexpected argument 'stray'"}},
  };
  for (const Case& c : cases) {
    const RunResult result = Cloudlinkd(c.args);
    EXPECT_EQ(result.exit_code, 2) << c.args[0] << "\n" << result.err;
    for (const std::string& text : c.says) {
      EXPECT_THAT(result.err, HasSubstr(text)) << c.args[0];
    }
  }
  EXPECT_FALSE(FileExists(SocketDir()));
}

// Flags are documented with dashes; Abseil's spellings (underscores, a value
// as the next argument) work too.
TEST_F(DaemonTest, AbseilSpellingsOfTheFlagsWork) {
  SubprocessOptions options;
  options.argv = {RunfilePath("server/cloudlinkd"),
                  "--socket",
                  Socket(),
                  "--config_dir",
                  ConfigDir(),
                  "--lib_dir",
                  LibDir(),
                  "--log_level",
                  "warning"};
  options.unset_env = {"NETDATA_CLAIM_URL", "NETDATA_CLAIM_TOKEN",
                       "NETDATA_CLAIM_ROOMS", "NETDATA_CLAIM_PROXY"};
  options.stderr_path = tmp_.Join("abseil.err");
  absl::StatusOr<std::unique_ptr<Subprocess>> daemon =
      Subprocess::Start(options);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_TRUE(testing::WaitFor(
      [&] { return !(*daemon)->Running() || Connectable(Socket()); },
      kStartTimeout))
      << (*daemon)->Stderr();
  EXPECT_TRUE((*daemon)->Running()) << (*daemon)->Stderr();
  EXPECT_TRUE(FileExists(LibDir() + "/registry/netdata.public.unique.id"));
  // "cloudlinkd starting" (INFO) comes before the socket: not at warning.
  EXPECT_THAT((*daemon)->Stderr(), Not(HasSubstr(" INFO ")));
  EXPECT_EQ(Terminate(**daemon), 0);
}

}  // namespace
}  // namespace cloudlink::integration

#include "server/api/unix_socket_listener.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/api/authorizer.h"
#include "server/api/on_demand_server.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr gid_t kNogroup = 65534;

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

// Answers Claim with the caller's peer name (in claimed_id) and GetState with
// the caller's uid (in claimed_id), after asking the authorizer, as the real
// service does.
class PeerEchoService final : public cloudlink::v1::CloudLink::Service {
 public:
  PeerEchoService(const Authorizer* authorizer, const UnixPeerRegistry* peers)
      : authorizer_(authorizer), peers_(peers) {}
  grpc::Status Claim(grpc::ServerContext* context,
                     const cloudlink::v1::ClaimRequest*,
                     cloudlink::v1::ClaimResponse* response) override {
    absl::Status allowed = authorizer_->Authorize(*context, "Claim");
    if (!allowed.ok()) return ToGrpcStatus(allowed);
    response->set_claimed_id(context->peer());
    return grpc::Status::OK;
  }
  grpc::Status GetState(grpc::ServerContext* context,
                        const cloudlink::v1::GetStateRequest*,
                        cloudlink::v1::State* response) override {
    absl::Status allowed = authorizer_->Authorize(*context, "GetState");
    if (!allowed.ok()) return ToGrpcStatus(allowed);
    absl::StatusOr<UnixCredentials> caller = peers_->Lookup(context->peer());
    response->set_claimed_id(caller.ok() ? std::to_string(caller->uid) : "?");
    return grpc::Status::OK;
  }

 private:
  const Authorizer* authorizer_;
  const UnixPeerRegistry* peers_;
};

class UnixSocketListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "these tests run as root (chown to a group)";
    run_dir_ = dir_.Join("run");
    ASSERT_EQ(mkdir(run_dir_.c_str(), 0750), 0);
    socket_ = run_dir_ + "/api.sock";
    UnixPolicy policy;
    policy.admin_group = "nogroup";
    policy.admin_gid = kNogroup;
    policy.socket_gid = kNogroup;
    authorizer_ =
        std::make_unique<Authorizer>(policy, AllowedSubjects(), &peers_);
    service_ = std::make_unique<PeerEchoService>(authorizer_.get(), &peers_);
    absl::StatusOr<std::unique_ptr<OnDemandServer>> grpc =
        OnDemandServer::Start(
            [this] {
              grpc::ServerBuilder builder;
              builder.RegisterService(service_.get());
              return builder.BuildAndStart();
            },
            [] { return 0; }, OnDemandOptions{absl::ZeroDuration()});
    ASSERT_TRUE(grpc.ok()) << grpc.status();
    grpc_ = *std::move(grpc);
  }
  void TearDown() override {
    if (listener_ != nullptr) listener_->Stop();
    if (grpc_ != nullptr) grpc_->Shutdown(absl::Seconds(5));
  }

  void StartListener() {
    absl::StatusOr<std::unique_ptr<UnixSocketListener>> listener =
        UnixSocketListener::Start(socket_, kNogroup, &peers_, grpc_.get());
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
  }

  // A stub on a connection of its own (no subchannel sharing).
  std::unique_ptr<cloudlink::v1::CloudLink::Stub> NewStub() {
    grpc::ChannelArguments args;
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return cloudlink::v1::CloudLink::NewStub(grpc::CreateCustomChannel(
        "unix:" + socket_, grpc::InsecureChannelCredentials(), args));
  }

  grpc::Status Claim(cloudlink::v1::CloudLink::Stub* stub,
                     cloudlink::v1::ClaimResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    cloudlink::v1::ClaimRequest request;
    return stub->Claim(&context, request, response);
  }

  testing::TempDir dir_;
  std::string run_dir_;
  std::string socket_;
  UnixPeerRegistry peers_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<PeerEchoService> service_;
  std::unique_ptr<OnDemandServer> grpc_;
  std::unique_ptr<UnixSocketListener> listener_;
};

TEST_F(UnixSocketListenerTest, SocketIs0660InTheGroupAndOwnDirectoryFollows) {
  StartListener();
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, kNogroup);
  ASSERT_EQ(stat(run_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_gid, kNogroup);
}

TEST_F(UnixSocketListenerTest, ADirectoryTheOperatorMadeIsLeftAlone) {
  ASSERT_EQ(chmod(run_dir_.c_str(), 0755), 0);
  StartListener();
  struct stat st;
  ASSERT_EQ(stat(run_dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(UnixSocketListenerTest, CallsCarryTheConnectionsDescriptorAsPeerName) {
  StartListener();
  auto stub = NewStub();
  cloudlink::v1::ClaimResponse response;
  grpc::Status status = Claim(stub.get(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // gRPC 1.51 names a connection handed over as a descriptor "fd:N".
  EXPECT_THAT(response.claimed_id(), StartsWith("fd:"));

  grpc::ClientContext context;
  cloudlink::v1::State state;
  ASSERT_TRUE(stub->GetState(&context, {}, &state).ok());
  EXPECT_EQ(state.claimed_id(), std::to_string(geteuid()));
}

TEST_F(UnixSocketListenerTest, ConnectionsGetFreshDescriptorNumbers) {
  StartListener();
  std::set<std::string> peers;
  for (int i = 0; i < 4; ++i) {
    auto stub = NewStub();  // its connection ends with it
    cloudlink::v1::ClaimResponse response;
    grpc::Status status = Claim(stub.get(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    int number = 0;
    ASSERT_TRUE(absl::SimpleAtoi(
        absl::string_view(response.claimed_id()).substr(3), &number));
    EXPECT_GE(number, 64);
    peers.insert(response.claimed_id());
  }
  EXPECT_EQ(peers.size(), 4u);
}

TEST_F(UnixSocketListenerTest, StopIsPromptAndRefusesNewConnections) {
  StartListener();
  const absl::Time start = absl::Now();
  listener_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  EXPECT_NE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
  listener_->Stop();  // idempotent
}

TEST_F(UnixSocketListenerTest, AnOccupiedPathIsAClearError) {
  ASSERT_TRUE(testing::WriteFile(socket_, "x").ok());
  absl::StatusOr<std::unique_ptr<UnixSocketListener>> listener =
      UnixSocketListener::Start(socket_, kNogroup, &peers_, grpc_.get());
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(std::string(listener.status().message()),
              HasSubstr("SOCKET_LISTEN_FAILED"));
}

}  // namespace
}  // namespace cloudlink::api

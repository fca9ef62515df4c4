#include "server/api/on_demand_server.h"

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/server_builder.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/common/thread_reserve.h"
#include "tests/testing/thread_switches.h"

namespace cloudlink::api {
namespace {

// Answers GetState with the peer name gRPC gave the call.
class PeerNameService final : public cloudlink::v1::CloudLink::Service {
 public:
  grpc::Status GetState(grpc::ServerContext* context,
                        const cloudlink::v1::GetStateRequest*,
                        cloudlink::v1::State* response) override {
    response->set_claimed_id(context->peer());
    return grpc::Status::OK;
  }
};

int ReserveThreads() {
  return testing::ThreadsNamed(getpid(), {"thread-reserve"});
}

// Waits (bounded) until `cond` holds; returns it as last evaluated.
template <typename Cond>
bool WaitFor(Cond cond, absl::Duration limit = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!cond()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

class OnDemandServerTest : public ::testing::Test {
 protected:
  // A server whose builder fails once `fail_builds_` is set, whose open
  // connections are `open_`, stopping after `idle_stop` when it can hold
  // kReserve threads (not while `refuse_threads_` is set).
  void Start(absl::Duration idle_stop) {
    OnDemandOptions options;
    options.idle_stop = idle_stop;
    options.reserve_threads = kReserve;
    options.hold_threads =
        [this](int n) -> absl::StatusOr<std::unique_ptr<ThreadReserve>> {
      ++holds_;
      if (refuse_threads_) return absl::ResourceExhaustedError("no thread");
      return ThreadReserve::Hold(n);
    };
    absl::StatusOr<std::unique_ptr<OnDemandServer>> server =
        OnDemandServer::Start(
            [this]() -> std::unique_ptr<grpc::Server> {
              if (fail_builds_) return nullptr;
              grpc::ServerBuilder builder;
              builder.RegisterService(&service_);
              return builder.BuildAndStart();
            },
            [this] { return open_.load(); }, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Adopts one end of a new socket pair (non-blocking, as gRPC needs);
  // returns the other.
  int Connect(absl::Status* adopted) {
    int pair[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                         pair),
              0);
    *adopted = server_->Adopt(pair[0]);
    return pair[1];
  }

  // A new connection, adopted and counted open, and one call over it: the
  // peer name it answered.
  absl::StatusOr<std::string> ConnectAndCall() {
    absl::Status adopted;
    const int fd = Connect(&adopted);
    if (!adopted.ok()) {
      close(fd);
      return adopted;
    }
    open_ = 1;
    return CallOver(fd);
  }

  // GetState over the client end `fd` (taken); the peer name it answered.
  absl::StatusOr<std::string> CallOver(int fd) {
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateInsecureChannelFromFd("on-demand-test", fd);
    auto stub = cloudlink::v1::CloudLink::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    cloudlink::v1::State state;
    grpc::Status status =
        stub->GetState(&context, cloudlink::v1::GetStateRequest(), &state);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    return state.claimed_id();
  }

  static constexpr int kReserve = 4;
  PeerNameService service_;
  std::atomic<int> open_{0};
  std::atomic<int> holds_{0};
  std::atomic<bool> refuse_threads_{false};
  std::atomic<bool> fail_builds_{false};
  std::unique_ptr<OnDemandServer> server_;
};

TEST_F(OnDemandServerTest, StopsOnceNoConnectionIsOpenAndItsThreadsEnd) {
  Start(absl::Milliseconds(200));
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->builds(), 1);
  absl::StatusOr<std::string> peer = ConnectAndCall();  // its channel ends
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_TRUE(absl::StartsWith(*peer, "fd:")) << *peer;
  EXPECT_TRUE(server_->running());

  open_ = 0;
  ASSERT_TRUE(WaitFor([&] { return !server_->running(); }));
  // The server held the last reference to gRPC: every gRPC thread ends.
  EXPECT_TRUE(WaitFor([] { return testing::GrpcThreads(getpid()) == 0; }))
      << testing::GrpcThreads(getpid()) << " gRPC threads left";
}

TEST_F(OnDemandServerTest, AStopHoldsThreadsThatTheNextServerGets) {
  Start(absl::Milliseconds(100));
  ASSERT_TRUE(WaitFor([&] { return !server_->running(); }));
  EXPECT_EQ(ReserveThreads(), kReserve);

  absl::Status adopted;
  const int fd = Connect(&adopted);
  ASSERT_TRUE(adopted.ok()) << adopted;
  // Given back (joined) before the server was built.
  EXPECT_EQ(ReserveThreads(), 0);
  close(fd);
  server_->Shutdown(absl::Seconds(1));
  EXPECT_EQ(ReserveThreads(), 0);
}

TEST_F(OnDemandServerTest, WithoutThreadsToStartAgainItKeepsRunning) {
  refuse_threads_ = true;
  Start(absl::Milliseconds(100));
  // Two stops put off, and the server still serves.
  ASSERT_TRUE(WaitFor([&] { return holds_ >= 2; }));
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->builds(), 1);
  EXPECT_TRUE(ConnectAndCall().ok());
  EXPECT_EQ(server_->builds(), 1);
  // Once threads can be held again, it stops.
  open_ = 0;
  refuse_threads_ = false;
  EXPECT_TRUE(WaitFor([&] { return !server_->running(); }));
}

TEST_F(OnDemandServerTest, KeepsRunningWhileAConnectionIsOpen) {
  Start(absl::Milliseconds(100));
  open_ = 1;
  // Ten times the idle stop (the measured window, not a synchronisation).
  absl::SleepFor(absl::Seconds(1));
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->builds(), 1);
}

TEST_F(OnDemandServerTest, ZeroIdleStopKeepsItRunning) {
  Start(absl::ZeroDuration());
  absl::SleepFor(absl::Milliseconds(500));  // the measured window
  EXPECT_TRUE(server_->running());
}

TEST_F(OnDemandServerTest, AConnectionAfterAStopIsServedByANewServer) {
  Start(absl::Milliseconds(100));
  ASSERT_TRUE(WaitFor([&] { return !server_->running(); }));

  absl::StatusOr<std::string> peer = ConnectAndCall();
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(server_->builds(), 2);
  // And it stops again after that connection.
  open_ = 0;
  EXPECT_TRUE(WaitFor([&] { return !server_->running(); }));
}

TEST_F(OnDemandServerTest, AServerThatCannotBeBuiltIsAnError) {
  fail_builds_ = true;
  absl::StatusOr<std::unique_ptr<OnDemandServer>> server =
      OnDemandServer::Start([] { return nullptr; }, [] { return 0; },
                            OnDemandOptions());
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(server.status()), "LISTEN_FAILED");
}

TEST_F(OnDemandServerTest, AConnectionNoServerCanBeBuiltForIsClosed) {
  Start(absl::Milliseconds(100));
  ASSERT_TRUE(WaitFor([&] { return !server_->running(); }));
  fail_builds_ = true;
  absl::Status adopted;
  const int fd = Connect(&adopted);
  EXPECT_EQ(adopted.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(adopted), "LISTEN_FAILED");
  char byte;
  EXPECT_EQ(read(fd, &byte, 1), 0) << "the adopted end is still open";
  close(fd);
  // The reserve is held again for the next attempt.
  EXPECT_EQ(ReserveThreads(), kReserve);
  // The next connection that can be served is.
  fail_builds_ = false;
  EXPECT_TRUE(ConnectAndCall().ok());
}

TEST_F(OnDemandServerTest, AfterShutdownAConnectionIsRefusedAndClosed) {
  Start(absl::Seconds(10));
  server_->Shutdown(absl::Seconds(1));
  EXPECT_FALSE(server_->running());
  absl::Status adopted;
  const int fd = Connect(&adopted);
  EXPECT_EQ(adopted.code(), absl::StatusCode::kUnavailable);
  char byte;
  EXPECT_EQ(read(fd, &byte, 1), 0) << "the adopted end is still open";
  close(fd);
  server_->Shutdown(absl::Seconds(1));  // idempotent
}

}  // namespace
}  // namespace cloudlink::api

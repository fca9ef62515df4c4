// The Publish stream's own final status, on an in-process gRPC server.

#include "server/api/publish_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "server/api/grpc_status.h"
#include "server/common/error.h"

namespace cloudlink::api {
namespace {

class PublishOnlyService final : public cloudlink::v1::CloudLink::Service {
 public:
  grpc::Status Publish(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<cloudlink::v1::PublishAck,
                                                cloudlink::v1::PublishRequest>*
                           stream) override {
    return ServePublishStream(context, stream, /*publisher=*/nullptr,
                              shutting_down_);
  }

  std::atomic<bool> shutting_down_{false};
};

TEST(PublishStreamTest, ShuttingDownEndsTheStreamWithAReason) {
  PublishOnlyService service;
  service.shutting_down_ = true;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<cloudlink::v1::CloudLink::Stub> stub =
      cloudlink::v1::CloudLink::NewStub(
          server->InProcessChannel(grpc::ChannelArguments()));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  auto stream = stub->Publish(&context);
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "SHUTTING_DOWN: cloudlinkd is stopping");
  EXPECT_TRUE(HasReason(FromGrpcStatus(status), reason::kShuttingDown));

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

}  // namespace
}  // namespace cloudlink::api

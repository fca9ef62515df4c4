// The Publish stream's own final status, on an in-process gRPC server.

#include "server/api/publish_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "server/api/grpc_status.h"
#include "server/common/error.h"
#include "server/publish/completion_batch.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

class PublishOnlyService final
    : public cloudlink::v1::CloudLink::CallbackService {
 public:
  explicit PublishOnlyService(
      publish::Publisher* publisher = nullptr,
      PublishStreamLimits limits = PublishStreamLimits())
      : streams_(publisher, limits) {}

  grpc::ServerBidiReactor<cloudlink::v1::PublishRequest,
                          cloudlink::v1::PublishAck>*
  Publish(grpc::CallbackServerContext* context) override {
    return streams_.Start(context, absl::OkStatus());
  }

  PublishStreams streams_;
};

TEST(PublishStreamTest, ShuttingDownEndsTheStreamWithAReason) {
  PublishOnlyService service;
  service.streams_.Shutdown();
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

// A server with a real Publisher over a memory queue, no link: the test
// takes the queued messages and completes them itself.
class PublishStreamServer {
 public:
  explicit PublishStreamServer(
      PublishStreamLimits limits = PublishStreamLimits(),
      publish::QueueOptions queue_options = publish::QueueOptions())
      : queue_(queue_options),
        publisher_(&queue_, nullptr),
        service_(&publisher_, limits) {
    publisher_.SetTopicNames({"t"});
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = cloudlink::v1::CloudLink::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }
  ~PublishStreamServer() {
    service_.streams_.Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
  }

  publish::PublishQueue queue_;
  publish::Publisher publisher_;
  PublishOnlyService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<cloudlink::v1::CloudLink::Stub> stub_;
};

void AddMessage(cloudlink::v1::PublishRequest* request, uint64_t id,
                const std::string& topic) {
  cloudlink::v1::PublishMessage* m = request->add_batch();
  m->set_id(id);
  m->set_topic(topic);
  m->set_payload("p");
}

TEST(PublishStreamTest, ABatchIsAnsweredInBatchAcksOneWritePerPass) {
  PublishStreamServer server;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  auto stream = server.stub_->Publish(&context);
  cloudlink::v1::PublishRequest request;
  AddMessage(&request, 1, "t");
  AddMessage(&request, 2, "t");
  AddMessage(&request, 3, "t");
  AddMessage(&request, 4, "unknown");
  ASSERT_TRUE(stream->Write(request));

  // The refusal comes at once, after the whole request was published.
  cloudlink::v1::PublishAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.ok_ids_size(), 0);
  ASSERT_EQ(ack.failed_size(), 1);
  EXPECT_EQ(ack.failed(0).id(), 4u);
  EXPECT_EQ(ack.failed(0).code(), 3);
  EXPECT_TRUE(absl::StartsWith(ack.failed(0).message(), "TOPIC_UNKNOWN"));

  std::vector<publish::Message> taken = server.queue_.TakeBatch(10, 1 << 20);
  ASSERT_EQ(taken.size(), 3u);
  {
    // As the link thread does: one pass completes them all.
    publish::CompletionBatch pass;
    for (publish::Message& m : taken) m.done(absl::OkStatus());
  }
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_THAT(ack.ok_ids(), ::testing::UnorderedElementsAre(1u, 2u, 3u));
  EXPECT_EQ(ack.failed_size(), 0);

  // A single-message request keeps its own ack.
  cloudlink::v1::PublishRequest single;
  single.set_id(9);
  single.set_topic("unknown");
  ASSERT_TRUE(stream->Write(single));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.id(), 9u);
  EXPECT_EQ(ack.code(), 3);
  EXPECT_EQ(ack.ok_ids_size() + ack.failed_size(), 0);

  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(PublishStreamTest, ErrorAcksQuoteTheInputCutShort) {
  PublishStreamServer server;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  auto stream = server.stub_->Publish(&context);
  cloudlink::v1::PublishRequest request;
  request.set_id(1);
  request.set_topic(std::string(1 << 20, 'x'));
  ASSERT_TRUE(stream->Write(request));
  cloudlink::v1::PublishAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.code(), 3);
  EXPECT_LT(ack.message().size(), 512u);
  EXPECT_THAT(ack.message(), ::testing::HasSubstr("(1048576 bytes)"));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// A caller that never reads its acks: the stream stops reading once its
// ack backlog is over the limit, so the caller is held back by flow
// control and the daemon buffers nothing more.
TEST(PublishStreamTest, ACallerThatDoesNotReadAcksIsHeldBackNotBuffered) {
  PublishStreamLimits limits;
  limits.max_ack_backlog = 4;
  PublishStreamServer server(limits);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  auto stream = server.stub_->Publish(&context);
  constexpr int kRequests = 20000;
  std::atomic<int> written{0};
  std::thread writer([&] {
    cloudlink::v1::PublishRequest request;
    request.set_topic(std::string(300, 'u'));  // unknown: refused at once
    for (int i = 0; i < kRequests; ++i) {
      request.set_id(i);
      if (!stream->Write(request)) return;
      ++written;
    }
  });
  // The writer gets stuck: the server stopped reading. (A bounded wait for
  // something that must not happen.)
  EXPECT_FALSE(testing::WaitFor([&] { return written.load() == kRequests; },
                                absl::Seconds(3)));
  EXPECT_LT(server.service_.streams_.requests_read(), uint64_t{kRequests});
  context.TryCancel();
  writer.join();
  stream->Finish();
}

// wait_when_full with room in the queue: the message is published on the
// gRPC thread; no request goes to the waiting path, no thread is started.
TEST(PublishStreamTest, WaitWhenFullWithRoomStartsNoThread) {
  PublishStreamServer server;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  auto stream = server.stub_->Publish(&context);
  for (uint64_t id = 1; id <= 3; ++id) {
    cloudlink::v1::PublishRequest request;
    AddMessage(&request, id, "t");
    AddMessage(&request, id + 10, "t");
    for (auto& m : *request.mutable_batch()) m.set_wait_when_full(true);
    ASSERT_TRUE(stream->Write(request));
  }
  cloudlink::v1::PublishRequest single;
  single.set_id(9);
  single.set_topic("t");
  single.set_payload("p");
  single.set_wait_when_full(true);
  ASSERT_TRUE(stream->Write(single));

  std::vector<publish::Message> taken;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (publish::Message& m : server.queue_.TakeBatch(10, 1 << 20)) {
          taken.push_back(std::move(m));
        }
        return taken.size() == 7;
      },
      absl::Seconds(10)));
  for (publish::Message& m : taken) m.done(absl::OkStatus());
  size_t acked = 0;
  cloudlink::v1::PublishAck ack;
  while (acked < 7 && stream->Read(&ack)) {
    acked += ack.ok_ids_size() + (ack.id() == 9 ? 1 : 0);
  }
  EXPECT_EQ(acked, 7u);
  EXPECT_EQ(server.service_.streams_.requests_waited(), 0u);
  EXPECT_EQ(server.service_.streams_.waiting_threads_started(), 0u);
  EXPECT_EQ(server.queue_.stats().rejected, 0u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// A full queue: the wait_when_full request waits on a pool thread and is
// released when the link takes a message (twice, one request at a time).
TEST(PublishStreamTest, AFullQueueWaitIsReleasedWhenRoomAppears) {
  publish::QueueOptions options;
  options.max_messages = 1;
  PublishStreamServer server(PublishStreamLimits(), options);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  auto stream = server.stub_->Publish(&context);
  PublishStreams& streams = server.service_.streams_;

  for (uint64_t round = 1; round <= 2; ++round) {
    publish::Message filler;
    filler.topic = "t";
    filler.payload = "filler";
    ASSERT_TRUE(server.queue_.Push(std::move(filler)).ok());

    cloudlink::v1::PublishRequest request;
    request.set_id(round);
    request.set_topic("t");
    request.set_payload("waits");
    request.set_wait_when_full(true);
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(testing::WaitFor(
        [&] { return streams.requests_waited() == round; }, absl::Seconds(10)));

    // Room appears: the filler goes, the waiting message takes its place.
    ASSERT_EQ(server.queue_.TakeBatch(1, 1 << 20).at(0).payload, "filler");
    std::vector<publish::Message> taken;
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          taken = server.queue_.TakeBatch(1, 1 << 20);
          return !taken.empty();
        },
        absl::Seconds(10)));
    EXPECT_EQ(taken.at(0).payload, "waits");
    taken.at(0).done(absl::OkStatus());
    cloudlink::v1::PublishAck ack;
    ASSERT_TRUE(stream->Read(&ack));
    EXPECT_EQ(ack.id(), round);
    EXPECT_EQ(ack.code(), 0);
    if (round == 1) {
      EXPECT_EQ(streams.waiting_threads_started(), 1u);
    }
  }
  // The second wait reused the kept thread, unless it came before that
  // thread parked again.
  EXPECT_LE(streams.waiting_threads_started(), 2u);
  EXPECT_EQ(server.queue_.stats().rejected, 0u);
  EXPECT_EQ(server.queue_.stats().wait_timed_out, 0u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace cloudlink::api

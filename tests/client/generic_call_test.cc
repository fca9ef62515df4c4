#include "client/generic_call.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/client/testdata/field_kinds.grpc.pb.h"
#include "tests/client/testdata/field_kinds.pb.h"
#include "tests/testing/test_env.h"

namespace cloudlink::client {
namespace {

using cloudlink::testing::v1::AllKinds;
using cloudlink::testing::v1::Inner;
using google::protobuf::Message;

// Echoes requests: SendAll returns its request (or an error for text
// "fail"); PublishStream answers each request with Inner{name=text, count=i}
// as soon as it arrives (a bidirectional stream, like a future `publish`).
class EchoKinds final : public cloudlink::testing::v1::Kinds::Service {
 public:
  grpc::Status SendAll(grpc::ServerContext*, const AllKinds* request,
                       AllKinds* response) override {
    if (request->text() == "fail") {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "NOT_NOW: asked to fail");
    }
    *response = *request;
    return grpc::Status::OK;
  }

  grpc::Status PublishStream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<Inner, AllKinds>* stream) override {
    AllKinds request;
    int count = 0;
    while (stream->Read(&request)) {
      Inner reply;
      reply.set_name(request.text());
      reply.set_count(count++);
      if (!stream->Write(reply)) break;
    }
    return grpc::Status::OK;
  }
};

class GenericCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string socket = dir_.Join("k.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket,
                             grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("unix:" + socket,
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
  }

  const google::protobuf::MethodDescriptor* Method(const char* name) {
    return AllKinds::descriptor()->file()->service(0)->FindMethodByName(name);
  }

  // Yields `requests` in order, then nullptr.
  static RequestSource Requests(std::vector<AllKinds> requests) {
    auto remaining = std::make_shared<std::vector<AllKinds>>(requests);
    auto next = std::make_shared<size_t>(0);
    return [remaining, next]() -> absl::StatusOr<std::unique_ptr<Message>> {
      if (*next >= remaining->size()) return std::unique_ptr<Message>();
      return std::unique_ptr<Message>(new AllKinds((*remaining)[(*next)++]));
    };
  }

  static AllKinds WithText(const std::string& text) {
    AllKinds kinds;
    kinds.set_text(text);
    return kinds;
  }

  cloudlink::testing::TempDir dir_;
  EchoKinds service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GenericCallTest, MethodPath) {
  EXPECT_EQ(MethodPath(Method("SendAll")),
            "/cloudlink.testing.v1.Kinds/SendAll");
}

TEST_F(GenericCallTest, UnaryRoundTripKeepsEveryField) {
  AllKinds request;
  request.set_text("t");
  request.set_u64(18446744073709551615u);
  request.add_names("a");
  request.mutable_after()->set_seconds(3);
  std::vector<std::string> seen;
  const CallResult result = CallMethod(
      channel_, Method("SendAll"), Requests({request}),
      [&](const Message& m) { seen.push_back(m.SerializeAsString()); },
      absl::Seconds(10));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_TRUE(result.local_error.ok());
  EXPECT_EQ(result.responses, 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], request.SerializeAsString());
}

TEST_F(GenericCallTest, ServerErrorIsTheStatus) {
  const CallResult result = CallMethod(
      channel_, Method("SendAll"), Requests({WithText("fail")}),
      [](const Message&) {}, absl::Seconds(10));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(result.status.error_message(), "NOT_NOW: asked to fail");
  EXPECT_EQ(result.responses, 0);
}

TEST_F(GenericCallTest, BidirectionalStreamAnswersEachRequest) {
  std::vector<std::string> names;
  std::vector<int> counts;
  const CallResult result = CallMethod(
      channel_, Method("PublishStream"),
      Requests({WithText("one"), WithText("two"), WithText("three")}),
      [&](const Message& m) {
        const auto& inner = dynamic_cast<const Inner&>(m);
        names.push_back(inner.name());
        counts.push_back(inner.count());
      },
      absl::Seconds(10));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.responses, 3);
  EXPECT_THAT(names, ::testing::ElementsAre("one", "two", "three"));
  EXPECT_THAT(counts, ::testing::ElementsAre(0, 1, 2));
}

TEST_F(GenericCallTest, RequestSourceErrorCancelsTheCall) {
  int calls = 0;
  RequestSource source = [&]() -> absl::StatusOr<std::unique_ptr<Message>> {
    if (calls++ == 0)
      return std::unique_ptr<Message>(new AllKinds(WithText("a")));
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadRequestLine,
                 "line 2");
  };
  const CallResult result = CallMethod(
      channel_, Method("PublishStream"), source, [](const Message&) {},
      absl::Seconds(10));
  EXPECT_EQ(result.local_error.message(), "BAD_REQUEST_LINE: line 2");
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GenericCallTest, UnreachableFailsFastWithUnavailable) {
  auto channel = grpc::CreateChannel("unix:" + dir_.Join("none.sock"),
                                     grpc::InsecureChannelCredentials());
  const absl::Time start = absl::Now();
  const CallResult result = CallMethod(
      channel, Method("SendAll"), Requests({WithText("x")}),
      [](const Message&) {}, absl::Seconds(20));
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(result.responses, 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace cloudlink::client

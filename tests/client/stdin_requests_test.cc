#include "client/stdin_requests.h"

#include <sstream>
#include <string>

#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using ::testing::HasSubstr;

cloudlink::v1::PublishRequest AsPublish(const google::protobuf::Message& m) {
  cloudlink::v1::PublishRequest request;
  request.ParseFromString(m.SerializeAsString());
  return request;
}

StdinRequests PublishLines(std::istream* in) {
  return StdinRequests(in, std::make_unique<cloudlink::v1::PublishRequest>());
}

TEST(StdinRequestsTest, OtherMethodsGetOneRequestALine) {
  std::istringstream in("{\"id\": \"1\"}\n\n  \n{\"id\": \"2\"}\n");
  StdinRequests lines(&in, std::make_unique<cloudlink::v1::PublishAck>());
  for (uint64_t id : {1, 2}) {
    auto next = lines.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_NE(*next, nullptr);
    cloudlink::v1::PublishAck ack;
    ack.ParseFromString((*next)->SerializeAsString());
    EXPECT_EQ(ack.id(), id);
  }
  auto end = lines.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, nullptr);
}

TEST(StdinRequestsTest, BadLineNamesItsNumberAndType) {
  std::istringstream in("\n{\"id\": \"1\"}\nnot json\n");
  StdinRequests lines(&in, std::make_unique<cloudlink::v1::PublishAck>());
  ASSERT_TRUE(lines.Next().ok());
  auto bad = lines.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(HasReason(bad.status(), reason::kBadRequestLine));
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("standard input line 3 is not a "
                        "cloudlink.v1.PublishAck in JSON"));
}

TEST(StdinRequestsTest, PublishLinesAlreadyReadGoAsOneBatch) {
  std::istringstream in(
      "{\"id\": \"1\", \"topic\": \"a\"}\n{\"id\": \"2\", \"topic\": \"b\"}\n"
      "{\"id\": \"3\", \"topic\": \"c\"}\n");
  StdinRequests lines = PublishLines(&in);
  auto batch = lines.Next();
  ASSERT_TRUE(batch.ok()) << batch.status();
  const cloudlink::v1::PublishRequest request = AsPublish(**batch);
  ASSERT_EQ(request.batch_size(), 3);
  EXPECT_EQ(request.batch(0).id(), 1u);
  EXPECT_EQ(request.batch(2).topic(), "c");
  auto end = lines.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, nullptr);
}

TEST(StdinRequestsTest, APublishLineAloneGoesAsRead) {
  std::istringstream in("{\"id\": \"7\", \"topic\": \"a\"}\n");
  StdinRequests lines = PublishLines(&in);
  auto one = lines.Next();
  ASSERT_TRUE(one.ok()) << one.status();
  const cloudlink::v1::PublishRequest request = AsPublish(**one);
  EXPECT_EQ(request.batch_size(), 0);
  EXPECT_EQ(request.id(), 7u);
}

TEST(StdinRequestsTest, ALineThatIsABatchGoesAfterTheBatchItEnds) {
  std::istringstream in(
      "{\"id\": \"1\", \"topic\": \"a\"}\n"
      "{\"batch\": [{\"id\": \"2\"}, {\"id\": \"3\"}]}\n");
  StdinRequests lines = PublishLines(&in);
  auto first = lines.Next();
  ASSERT_TRUE(first.ok()) << first.status();
  const cloudlink::v1::PublishRequest built = AsPublish(**first);
  ASSERT_EQ(built.batch_size(), 1);
  EXPECT_EQ(built.batch(0).id(), 1u);
  auto own = lines.Next();
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(AsPublish(**own).batch_size(), 2);
}

TEST(StdinRequestsTest, ABadLineAfterABatchsFirstComesAfterTheBatch) {
  std::istringstream in("{\"id\": \"1\"}\n{\"id\": \"2\"}\n{\"id\": oops}\n");
  StdinRequests lines = PublishLines(&in);
  auto batch = lines.Next();
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(AsPublish(**batch).batch_size(), 2);
  auto bad = lines.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("standard input line 3"));
}

}  // namespace
}  // namespace cloudlink::client

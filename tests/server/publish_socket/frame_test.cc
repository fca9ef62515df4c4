// The publish socket's frames over byte strings: every split of the input
// gives the same frames; a length over the limit breaks the stream for
// good.

#include "server/publish_socket/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/common/error.h"

namespace cloudlink::publish_socket {
namespace {

std::string Frames(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    cloudlink::v1::PublishRequest request;
    request.set_id(i + 1);
    request.set_topic("node-instance-info");
    request.set_payload(std::string(i * 7, 'x'));
    AppendFrame(request, &out);
  }
  return out;
}

// Feeds `bytes` in pieces of `piece` bytes; returns the ids read.
std::vector<uint64_t> ReadAll(const std::string& bytes, size_t piece) {
  FrameReader reader;
  std::vector<uint64_t> ids;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    reader.Append(absl::string_view(bytes).substr(at, piece));
    while (true) {
      absl::StatusOr<absl::optional<absl::string_view>> frame = reader.Next();
      EXPECT_TRUE(frame.ok()) << frame.status();
      if (!frame.ok() || !frame->has_value()) break;
      cloudlink::v1::PublishRequest request;
      EXPECT_TRUE(request.ParseFromArray((*frame)->data(),
                                         static_cast<int>((*frame)->size())));
      ids.push_back(request.id());
    }
  }
  EXPECT_EQ(reader.buffered(), 0u);
  return ids;
}

TEST(FrameTest, EverySplitOfTheStreamGivesTheSameFrames) {
  const std::string bytes = Frames(20);
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= 20; ++i) expected.push_back(i);
  for (size_t piece = 1; piece <= bytes.size(); ++piece) {
    EXPECT_EQ(ReadAll(bytes, piece), expected) << "pieces of " << piece;
  }
}

TEST(FrameTest, TheHeaderIsTheBigEndianLength) {
  cloudlink::v1::PublishSocketHello hello;
  hello.set_version(1);
  std::string out;
  AppendFrame(hello, &out);
  ASSERT_EQ(out.size(), 4u + 2u);
  EXPECT_EQ(out.substr(0, 4), std::string("\0\0\0\2", 4));
  EXPECT_EQ(out.substr(4), std::string("\x08\x01", 2));
}

TEST(FrameTest, AnEmptyMessageIsAnEmptyFrame) {
  std::string out;
  AppendFrame(cloudlink::v1::PublishRequest(), &out);
  FrameReader reader;
  reader.Append(out);
  absl::StatusOr<absl::optional<absl::string_view>> frame = reader.Next();
  ASSERT_TRUE(frame.ok() && frame->has_value());
  EXPECT_TRUE((*frame)->empty());
  EXPECT_FALSE(reader.Next()->has_value());
}

TEST(FrameTest, ALengthOverTheLimitBreaksTheStreamForGood) {
  FrameReader reader(/*max_frame_bytes=*/100);
  std::string ok(4, '\0');
  ok[3] = 100;
  reader.Append(ok + std::string(100, 'a'));
  ASSERT_TRUE(reader.Next()->has_value());
  reader.Append(std::string("\0\0\0\x65", 4));  // 101
  absl::StatusOr<absl::optional<absl::string_view>> frame = reader.Next();
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(HasReason(frame.status(), reason::kFrameTooLarge));
  EXPECT_TRUE(absl::StrContains(frame.status().message(), "101 bytes"));
  EXPECT_FALSE(reader.Next().ok());
}

TEST(FrameTest, AnHttpRequestIsNotTakenForAFrame) {
  FrameReader reader;
  reader.Append("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  absl::StatusOr<absl::optional<absl::string_view>> frame = reader.Next();
  ASSERT_FALSE(frame.ok());
  EXPECT_TRUE(absl::StrContains(frame.status().message(),
                                "does not speak the publish socket"));
}

TEST(FrameTest, ReadsStraightIntoTheBufferAndKeepsItSmall) {
  const std::string bytes = Frames(3);
  FrameReader reader;
  for (int round = 0; round < 1000; ++round) {
    char* to = reader.Reserve(bytes.size() + 10);
    bytes.copy(to, bytes.size());
    reader.Commit(bytes.size());
    int frames = 0;
    while (reader.Next()->has_value()) ++frames;
    ASSERT_EQ(frames, 3);
  }
  EXPECT_EQ(reader.buffered(), 0u);
}

}  // namespace
}  // namespace cloudlink::publish_socket

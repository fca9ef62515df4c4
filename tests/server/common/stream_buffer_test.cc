#include "server/common/stream_buffer.h"

#include <string>

#include "gtest/gtest.h"

namespace cloudlink {
namespace {

TEST(StreamBufferTest, ConsumeAdvancesAndViewsSurviveUntilTheNextAppend) {
  StreamBuffer buffer;
  EXPECT_EQ(buffer.size(), 0u);
  buffer.Append("hello ");
  buffer.Append("world");
  EXPECT_EQ(buffer.pending(), "hello world");
  const absl::string_view hello = buffer.pending().substr(0, 5);
  buffer.Consume(6);
  EXPECT_EQ(hello, "hello");  // still readable after Consume
  EXPECT_EQ(buffer.pending(), "world");
  EXPECT_EQ(buffer.size(), 5u);
  buffer.Consume(5);
  EXPECT_EQ(buffer.size(), 0u);
  buffer.Append("again");
  EXPECT_EQ(buffer.pending(), "again");
}

// Many small packets through a buffer that always holds a partial one: the
// consumed prefix is dropped, so memory stays bounded by the pending bytes.
TEST(StreamBufferTest, ConsumedBytesAreDroppedSoTheBufferStaysSmall) {
  StreamBuffer buffer;
  const std::string packet(100, 'p');
  buffer.Append(packet.substr(0, 50));
  for (int i = 0; i < 100000; ++i) {
    buffer.Append(packet);  // completes one, starts the next
    ASSERT_EQ(buffer.size(), 150u);
    ASSERT_LE(buffer.held_bytes(), 2 * 150u);
    buffer.Consume(100);
  }
  EXPECT_EQ(buffer.pending(), packet.substr(0, 50));
}

}  // namespace
}  // namespace cloudlink

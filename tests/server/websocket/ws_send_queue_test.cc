#include "server/websocket/ws_send_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "server/websocket/websocket_frame.h"

namespace cloudlink::websocket {
namespace {

// One client frame as a server reads it, decoded byte by byte (independent
// of ApplyWsMask, which the queue uses).
struct ParsedFrame {
  bool fin = false;
  int opcode = -1;
  bool masked = false;
  WsMaskKey key{};
  std::string payload;  // unmasked
  size_t header_size = 0;
};

// Parses the frame at the start of `bytes`; returns its total size, 0 if
// `bytes` does not hold a whole frame.
size_t ParseClientFrame(absl::string_view bytes, ParsedFrame* frame) {
  if (bytes.size() < 2) return 0;
  const auto b0 = static_cast<uint8_t>(bytes[0]);
  const auto b1 = static_cast<uint8_t>(bytes[1]);
  frame->fin = (b0 & 0x80) != 0;
  frame->opcode = b0 & 0x0F;
  frame->masked = (b1 & 0x80) != 0;
  uint64_t length = b1 & 0x7F;
  size_t pos = 2;
  const size_t extra = length == 126 ? 2 : length == 127 ? 8 : 0;
  if (extra > 0) {
    if (bytes.size() < pos + extra) return 0;
    length = 0;
    for (size_t i = 0; i < extra; ++i) {
      length = (length << 8) | static_cast<uint8_t>(bytes[pos + i]);
    }
    pos += extra;
  }
  if (frame->masked) {
    if (bytes.size() < pos + 4) return 0;
    for (size_t i = 0; i < 4; ++i) {
      frame->key[i] = static_cast<uint8_t>(bytes[pos + i]);
    }
    pos += 4;
  }
  if (bytes.size() < pos + length) return 0;
  frame->header_size = pos;
  frame->payload.assign(bytes.data() + pos, length);
  if (frame->masked) {
    for (size_t i = 0; i < length; ++i) {
      frame->payload[i] =
          static_cast<char>(frame->payload[i] ^ frame->key[i % 4]);
    }
  }
  return pos + length;
}

std::vector<ParsedFrame> ParseAll(absl::string_view bytes) {
  std::vector<ParsedFrame> frames;
  while (!bytes.empty()) {
    ParsedFrame frame;
    const size_t size = ParseClientFrame(bytes, &frame);
    EXPECT_GT(size, 0u) << "truncated frame";
    if (size == 0) break;
    frames.push_back(std::move(frame));
    bytes.remove_prefix(size);
  }
  return frames;
}

// Keys 1, 2, 3, ... (as four distinct bytes each), counting calls.
struct CountingKeys {
  WsMaskKey operator()() {
    ++*calls;
    const auto n = static_cast<uint8_t>(*calls);
    return {n, static_cast<uint8_t>(n + 0x40), static_cast<uint8_t>(n + 0x80),
            static_cast<uint8_t>(n + 0xC0)};
  }
  int* calls;
};

std::string Pattern(size_t size, int seed) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 8)) & 0xFF);
  }
  return bytes;
}

TEST(WsSendQueueTest, NothingQueuedTakesNothingAndDrawsNoKey) {
  int calls = 0;
  WsSendQueue queue(CountingKeys{&calls}, 1024);
  std::string out = "prefix";
  EXPECT_EQ(queue.TakeFrame(&out), 0u);
  EXPECT_EQ(out, "prefix");
  EXPECT_EQ(calls, 0);
  queue.Append("");
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(queue.TakeFrame(&out), 0u);
  EXPECT_EQ(calls, 0);
}

TEST(WsSendQueueTest, ManyAppendsLeaveAsOneMaskedBinaryFrame) {
  int calls = 0;
  WsSendQueue queue(CountingKeys{&calls}, 64 * 1024);
  const std::string a = Pattern(100, 1), b = Pattern(3, 2), c = Pattern(900, 3);
  queue.Append(a);
  queue.Append(b);
  queue.Append(c);
  EXPECT_EQ(queue.pending_bytes(), 1003u);
  std::string out;
  EXPECT_EQ(queue.TakeFrame(&out), 1003u);
  EXPECT_EQ(queue.pending_bytes(), 0u);
  EXPECT_EQ(calls, 1);
  const std::vector<ParsedFrame> frames = ParseAll(out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].fin);
  EXPECT_EQ(frames[0].opcode, 0x2);
  EXPECT_TRUE(frames[0].masked);
  EXPECT_EQ(frames[0].key, (WsMaskKey{1, 0x41, 0x81, 0xC1}));
  EXPECT_EQ(frames[0].header_size, 2u + 2u + 4u);  // 16-bit length form
  EXPECT_EQ(frames[0].payload, a + b + c);
  // The bytes on the wire are not the plain payload.
  EXPECT_EQ(out.find(c.substr(0, 32)), std::string::npos);
}

TEST(WsSendQueueTest, SplitsAtTheCapWithAFreshKeyPerFrame) {
  int calls = 0;
  WsSendQueue queue(CountingKeys{&calls}, 1000);
  const std::string data = Pattern(2500, 4);
  queue.Append(data);
  std::string out;
  EXPECT_EQ(queue.TakeFrame(&out), 1000u);
  EXPECT_EQ(queue.pending_bytes(), 1500u);
  EXPECT_EQ(queue.TakeFrame(&out), 1000u);
  EXPECT_EQ(queue.TakeFrame(&out), 500u);
  EXPECT_EQ(queue.TakeFrame(&out), 0u);
  const std::vector<ParsedFrame> frames = ParseAll(out);
  ASSERT_EQ(frames.size(), 3u);
  std::string joined;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_TRUE(frames[i].fin);
    EXPECT_EQ(frames[i].opcode, 0x2);
    EXPECT_EQ(frames[i].key[0], i + 1) << i;
    joined += frames[i].payload;
  }
  EXPECT_EQ(joined, data);
  EXPECT_EQ(calls, 3);
}

TEST(WsSendQueueTest, LengthFormsAtTheProductionCap) {
  int calls = 0;
  WsSendQueue queue(CountingKeys{&calls}, 64 * 1024);
  const std::string data = Pattern(64 * 1024 + 125 + 126, 5);
  queue.Append(data);
  std::string out;
  EXPECT_EQ(queue.TakeFrame(&out), 65536u);  // 64-bit length form
  EXPECT_EQ(queue.TakeFrame(&out), 251u);    // 16-bit
  queue.Append(data.substr(0, 125));
  EXPECT_EQ(queue.TakeFrame(&out), 125u);  // 7-bit
  const std::vector<ParsedFrame> frames = ParseAll(out);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].header_size, 2u + 8u + 4u);
  EXPECT_EQ(frames[1].header_size, 2u + 2u + 4u);
  EXPECT_EQ(frames[2].header_size, 2u + 4u);
  EXPECT_EQ(frames[0].payload + frames[1].payload, data);
  EXPECT_EQ(frames[2].payload, data.substr(0, 125));
}

// Masking is word-wise over the aligned middle of the output buffer: whatever
// precedes the frame in `out` (lws's LWS_PRE headroom in production) and
// whatever the sizes, every byte must be masked with key[i % 4].
TEST(WsSendQueueTest, MaskedCorrectlyAtEveryBufferOffsetAndRandomSizes) {
  std::mt19937 random(20261126);
  int calls = 0;
  WsSendQueue queue(CountingKeys{&calls}, 4096);
  std::string expected;
  std::string sent;
  for (int round = 0; round < 300; ++round) {
    const size_t appends = 1 + random() % 4;
    for (size_t i = 0; i < appends; ++i) {
      const std::string chunk = Pattern(random() % 3000, round * 8 + i);
      queue.Append(chunk);
      expected += chunk;
    }
    const size_t offset = random() % 17;
    std::string out(offset, 'x');
    const size_t pending = queue.pending_bytes();
    const size_t taken = queue.TakeFrame(&out);
    EXPECT_EQ(taken, std::min<size_t>(pending, 4096));
    ASSERT_EQ(out.substr(0, offset), std::string(offset, 'x'));
    for (const ParsedFrame& frame : ParseAll(out.substr(offset))) {
      sent += frame.payload;
    }
  }
  std::string out;
  while (queue.TakeFrame(&out) > 0) {
  }
  for (const ParsedFrame& frame : ParseAll(out)) sent += frame.payload;
  EXPECT_EQ(sent.size(), expected.size());
  EXPECT_TRUE(sent == expected);
}

}  // namespace
}  // namespace cloudlink::websocket

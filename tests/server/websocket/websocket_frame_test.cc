#include "server/websocket/websocket_frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "server/common/error.h"
#include "tests/testing/byte_strings.h"

namespace cloudlink::websocket {
namespace {

using ::cloudlink::testing::Bytes;
using ::cloudlink::testing::Hex;

// The key of the RFC 6455 section 5.7 examples.
constexpr WsMaskKey kRfcKey = {0x37, 0xfa, 0x21, 0x3d};

// The payload of one client frame, unmasked with the frame's own key.
std::string UnmaskedPayload(absl::string_view client_frame) {
  const uint8_t length7 = static_cast<uint8_t>(client_frame[1]) & 0x7F;
  const size_t length_end = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
  WsMaskKey key;
  std::memcpy(key.data(), client_frame.data() + length_end, 4);
  std::string payload(client_frame.substr(length_end + 4));
  ApplyWsMask(payload.data(), payload.size(), key);
  return payload;
}

// --- RFC 6455 section 5.7 examples -------------------------------------------

TEST(WebSocketFrameTest, MaskedHelloMatchesRfc) {
  std::string out;
  ASSERT_TRUE(
      AppendWsClientFrame(WsOpcode::kText, true, "Hello", kRfcKey, &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
                                 0x4d, 0x51, 0x58})));
}

TEST(WebSocketFrameTest, MaskedPongMatchesRfc) {
  std::string out;
  ASSERT_TRUE(
      AppendWsClientFrame(WsOpcode::kPong, true, "Hello", kRfcKey, &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
                                 0x4d, 0x51, 0x58})));
}

TEST(WebSocketFrameTest, SixteenAndSixtyFourBitLengthsMatchRfc) {
  // 256 bytes: 0x82 0x7E 0x0100; 64 KiB: 0x82 0x7F 0x0000000000010000,
  // each with the mask bit and key.
  const std::string small(256, 'a');
  const std::string big(65536, 'b');
  std::string out;
  ASSERT_TRUE(
      AppendWsClientFrame(WsOpcode::kBinary, true, small, kRfcKey, &out).ok());
  EXPECT_EQ(Hex(out.substr(0, 8)),
            Hex(Bytes({0x82, 0xFE, 0x01, 0x00, 0x37, 0xfa, 0x21, 0x3d})));
  EXPECT_EQ(out.size(), 8 + small.size());
  out.clear();
  ASSERT_TRUE(
      AppendWsClientFrame(WsOpcode::kBinary, true, big, kRfcKey, &out).ok());
  EXPECT_EQ(Hex(out.substr(0, 14)),
            Hex(Bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x37, 0xfa,
                       0x21, 0x3d})));
  EXPECT_EQ(out.size(), 14 + big.size());
}

TEST(WebSocketFrameTest, LengthFormBoundaries) {
  struct Case {
    size_t length;
    size_t header;
  };
  for (const Case& c : {Case{0, 6}, Case{125, 6}, Case{126, 8}, Case{65535, 8},
                        Case{65536, 14}, Case{70000, 14}}) {
    std::string payload(c.length, '\0');
    for (size_t i = 0; i < payload.size(); ++i) {
      payload[i] = static_cast<char>(i * 7);
    }
    std::string out;
    ASSERT_TRUE(
        AppendWsClientFrame(WsOpcode::kBinary, true, payload, kRfcKey, &out)
            .ok());
    EXPECT_EQ(out.size(), c.header + c.length) << c.length;
    EXPECT_EQ(UnmaskedPayload(out), payload) << c.length;
  }
}

// --- Masking -----------------------------------------------------------------

TEST(WebSocketMaskTest, WordWiseEqualsByteWiseAtAllAlignments) {
  const WsMaskKey key = {0x01, 0x80, 0xFE, 0x5A};
  std::mt19937 random(1);
  std::vector<char> source(300 + 16);
  for (char& c : source) c = static_cast<char>(random());
  // 8-byte aligned storage, so the offset alone sets the alignment.
  alignas(8) char buffer[300 + 16];
  for (size_t length = 0; length <= 300; ++length) {
    for (size_t offset = 0; offset < 8; ++offset) {
      for (size_t phase = 0; phase < 4; ++phase) {
        std::memcpy(buffer, source.data(), sizeof(buffer));
        const size_t end_phase =
            ApplyWsMask(buffer + offset, length, key, phase);
        EXPECT_EQ(end_phase, (phase + length) % 4);
        for (size_t i = 0; i < sizeof(buffer); ++i) {
          char expected = source[i];
          if (i >= offset && i < offset + length) {
            expected ^= static_cast<char>(key[(phase + i - offset) % 4]);
          }
          ASSERT_EQ(buffer[i], expected)
              << "length " << length << " offset " << offset << " phase "
              << phase << " byte " << i;
        }
      }
    }
  }
}

TEST(WebSocketMaskTest, MaskingInPiecesEqualsMaskingAtOnce) {
  std::string whole(1000, '\0');
  for (size_t i = 0; i < whole.size(); ++i) whole[i] = static_cast<char>(i);
  std::string pieces = whole;
  ApplyWsMask(whole.data(), whole.size(), kRfcKey);
  size_t phase = 0;
  size_t pos = 0;
  for (size_t piece : {1, 3, 7, 8, 13, 100, 868}) {
    phase = ApplyWsMask(pieces.data() + pos, piece, kRfcKey, phase);
    pos += piece;
  }
  ASSERT_EQ(pos, pieces.size());
  EXPECT_EQ(pieces, whole);
}

// --- Encoder -----------------------------------------------------------------

TEST(WsFrameEncoderTest, EachFrameTakesTheNextKey) {
  uint8_t next = 0;
  WsFrameEncoder encoder([&next] {
    ++next;
    return WsMaskKey{next, next, next, next};
  });
  std::string out;
  encoder.AppendBinary("ab", &out);
  encoder.AppendBinary("cd", &out);
  EXPECT_EQ(Hex(out), Hex(Bytes({0x82, 0x82, 1, 1, 1, 1, 'a' ^ 1, 'b' ^ 1, 0x82,
                                 0x82, 2, 2, 2, 2, 'c' ^ 2, 'd' ^ 2})));
}

TEST(WebSocketFrameTest, RefusesBadControlFramesAndLeavesBufferAlone) {
  std::string out = "keep";
  EXPECT_EQ(ReasonOf(AppendWsClientFrame(WsOpcode::kPing, true,
                                         std::string(126, 'p'), kRfcKey, &out)),
            "WS_PROTOCOL_ERROR");
  EXPECT_EQ(out, "keep");
  EXPECT_TRUE(AppendWsClientFrame(WsOpcode::kPing, true, std::string(125, 'p'),
                                  kRfcKey, &out)
                  .ok());
  out = "keep";
  EXPECT_EQ(
      ReasonOf(AppendWsClientFrame(WsOpcode::kPong, false, "", kRfcKey, &out)),
      "WS_PROTOCOL_ERROR");
  EXPECT_EQ(ReasonOf(AppendWsClientFrame(static_cast<WsOpcode>(3), true, "",
                                         kRfcKey, &out)),
            "WS_PROTOCOL_ERROR");
  EXPECT_EQ(out, "keep");
  // Fragments of a data message are fine.
  EXPECT_TRUE(
      AppendWsClientFrame(WsOpcode::kBinary, false, "a", kRfcKey, &out).ok());
  EXPECT_TRUE(
      AppendWsClientFrame(WsOpcode::kContinuation, true, "b", kRfcKey, &out)
          .ok());
}

}  // namespace
}  // namespace cloudlink::websocket

#include "server/websocket/websocket_frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "server/common/error.h"

namespace cloudlink::websocket {
namespace {

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string Hex(absl::string_view bytes) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// The key of the RFC 6455 section 5.7 examples.
constexpr WsMaskKey kRfcKey = {0x37, 0xfa, 0x21, 0x3d};

// A client frame as the server would send it: mask bit and key removed,
// payload unmasked.
std::string ToServerFrame(absl::string_view client_frame) {
  std::string frame(client_frame);
  const uint8_t length7 = static_cast<uint8_t>(frame[1]) & 0x7F;
  const size_t length_end = length7 == 126 ? 4 : length7 == 127 ? 10 : 2;
  WsMaskKey key;
  std::memcpy(key.data(), frame.data() + length_end, 4);
  std::string payload = frame.substr(length_end + 4);
  ApplyWsMask(payload.data(), payload.size(), key);
  frame[1] = static_cast<char>(length7);
  return frame.substr(0, length_end) + payload;
}

// Decodes all of `bytes`, which must hold exactly one message.
absl::StatusOr<WsMessage> DecodeOne(absl::string_view bytes,
                                    size_t max_message_size = 1 << 20) {
  WsFrameDecoder decoder(max_message_size);
  decoder.Feed(bytes);
  auto next = decoder.Next();
  if (!next.ok()) return next.status();
  if (!next->has_value()) return absl::UnknownError("incomplete");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  return std::move(**next);
}

std::string DecodeReason(absl::string_view bytes,
                         size_t max_message_size = 1 << 20) {
  absl::StatusOr<WsMessage> message = DecodeOne(bytes, max_message_size);
  if (message.ok()) return "";
  EXPECT_EQ(message.status().code(), absl::StatusCode::kInvalidArgument);
  return ReasonOf(message.status());
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
  WsFrameEncoder encoder([] { return kRfcKey; });
  std::string out;
  ASSERT_TRUE(encoder.AppendPong("Hello", &out).ok());
  EXPECT_EQ(Hex(out), Hex(Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f,
                                 0x4d, 0x51, 0x58})));
}

TEST(WebSocketFrameTest, UnmaskedHelloFromServer) {
  absl::StatusOr<WsMessage> m =
      DecodeOne(Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->opcode, WsOpcode::kText);
  EXPECT_EQ(m->payload, "Hello");
}

TEST(WebSocketFrameTest, FragmentedHelloFromServer) {
  absl::StatusOr<WsMessage> m =
      DecodeOne(Bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->opcode, WsOpcode::kText);
  EXPECT_EQ(m->payload, "Hello");
}

TEST(WebSocketFrameTest, UnmaskedPingFromServer) {
  absl::StatusOr<WsMessage> m =
      DecodeOne(Bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->opcode, WsOpcode::kPing);
  EXPECT_EQ(m->payload, "Hello");
}

TEST(WebSocketFrameTest, SixteenAndSixtyFourBitLengthsMatchRfc) {
  // 256 bytes: 0x82 0x7E 0x0100; 64 KiB: 0x82 0x7F 0x0000000000010000.
  const std::string small(256, 'a');
  absl::StatusOr<WsMessage> m =
      DecodeOne(Bytes({0x82, 0x7E, 0x01, 0x00}) + small);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->opcode, WsOpcode::kBinary);
  EXPECT_EQ(m->payload, small);

  const std::string big(65536, 'b');
  m = DecodeOne(Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}) + big);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->payload, big);

  // Our client frames use the same forms, with the mask bit and key.
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
    absl::StatusOr<WsMessage> m = DecodeOne(ToServerFrame(out));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->payload, payload) << c.length;
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

TEST(WsFrameEncoderTest, CloseCarriesCodeAndReason) {
  WsFrameEncoder encoder([] { return WsMaskKey{0, 0, 0, 0}; });
  std::string out;
  ASSERT_TRUE(encoder.AppendClose(ws_close::kNormal, "bye", &out).ok());
  EXPECT_EQ(Hex(out),
            Hex(Bytes({0x88, 0x85, 0, 0, 0, 0, 0x03, 0xE8, 'b', 'y', 'e'})));
  absl::StatusOr<WsMessage> m = DecodeOne(ToServerFrame(out));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->opcode, WsOpcode::kClose);
  EXPECT_EQ(m->close_code, absl::optional<uint16_t>(1000));
  EXPECT_EQ(m->payload, "bye");
}

TEST(WsFrameEncoderTest, RefusesBadControlFramesAndLeavesBufferAlone) {
  WsFrameEncoder encoder([] { return kRfcKey; });
  std::string out = "keep";
  EXPECT_EQ(ReasonOf(encoder.AppendPing(std::string(126, 'p'), &out)),
            "WS_PROTOCOL_ERROR");
  EXPECT_TRUE(encoder.AppendPing(std::string(125, 'p'), &out).ok());
  out = "keep";
  EXPECT_EQ(ReasonOf(encoder.AppendFrame(WsOpcode::kPong, false, "", &out)),
            "WS_PROTOCOL_ERROR");
  EXPECT_EQ(ReasonOf(encoder.AppendClose(1005, "", &out)), "WS_PROTOCOL_ERROR");
  EXPECT_EQ(ReasonOf(encoder.AppendClose(1000, std::string(124, 'r'), &out)),
            "WS_PROTOCOL_ERROR");
  EXPECT_EQ(ReasonOf(encoder.AppendClose(1000, "\xff", &out)),
            "WS_PROTOCOL_ERROR");
  EXPECT_EQ(
      ReasonOf(encoder.AppendFrame(static_cast<WsOpcode>(3), true, "", &out)),
      "WS_PROTOCOL_ERROR");
  EXPECT_EQ(out, "keep");
  // Fragments of a data message are fine.
  EXPECT_TRUE(encoder.AppendFrame(WsOpcode::kBinary, false, "a", &out).ok());
  EXPECT_TRUE(
      encoder.AppendFrame(WsOpcode::kContinuation, true, "b", &out).ok());
}

// --- Decoder -----------------------------------------------------------------

TEST(WsFrameDecoderTest, ControlFramesBetweenFragmentsComeFirst) {
  WsFrameDecoder decoder(1 << 20);
  decoder.Feed(Bytes({0x02, 0x02, 'a', 'b',     // binary, not final
                      0x89, 0x01, 'x',          // ping
                      0x00, 0x01, 'c',          // continuation
                      0x8A, 0x00,               // pong
                      0x80, 0x02, 'd', 'e'}));  // final continuation
  std::vector<WsMessage> messages;
  while (true) {
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (!next->has_value()) break;
    messages.push_back(std::move(**next));
  }
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].opcode, WsOpcode::kPing);
  EXPECT_EQ(messages[0].payload, "x");
  EXPECT_EQ(messages[1].opcode, WsOpcode::kPong);
  EXPECT_EQ(messages[2].opcode, WsOpcode::kBinary);
  EXPECT_EQ(messages[2].payload, "abcde");
}

TEST(WsFrameDecoderTest, CloseFrames) {
  absl::StatusOr<WsMessage> m = DecodeOne(Bytes({0x88, 0x00}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->opcode, WsOpcode::kClose);
  EXPECT_FALSE(m->close_code.has_value());

  m = DecodeOne(Bytes({0x88, 0x02, 0x0F, 0xA0}));  // 4000, no reason
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->close_code, absl::optional<uint16_t>(4000));
  EXPECT_EQ(m->payload, "");

  EXPECT_EQ(DecodeReason(Bytes({0x88, 0x01, 0x03})), "WS_PROTOCOL_ERROR");
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000}) {
    EXPECT_EQ(DecodeReason(Bytes({0x88, 0x02, code >> 8, code & 0xFF})),
              "WS_PROTOCOL_ERROR")
        << code;
  }
  EXPECT_EQ(DecodeReason(Bytes({0x88, 0x03, 0x03, 0xE8, 0xC0})),
            "WS_PROTOCOL_ERROR");
}

TEST(WsFrameDecoderTest, BadFramesAreProtocolErrors) {
  const std::string bad_frames[] = {
      Bytes({0xC2, 0x00}),                   // RSV1
      Bytes({0xA2, 0x00}),                   // RSV2
      Bytes({0x92, 0x00}),                   // RSV3
      Bytes({0x83, 0x00}),                   // reserved data opcode
      Bytes({0x8B, 0x00}),                   // reserved control opcode
      Bytes({0x82, 0x81, 1, 2, 3, 4, 'x'}),  // masked server frame
      Bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}),  // top length bit
      Bytes({0x89, 0x7E, 0x00, 0x7E}),  // control frame over 125 bytes
      Bytes({0x09, 0x00}),              // fragmented ping
      Bytes({0x80, 0x01, 'x'}),         // continuation with no message
      Bytes({0x02, 0x01, 'a', 0x82, 0x01, 'b'}),  // new message mid-message
      Bytes({0x81, 0x02, 0xC3, 0x28}),            // text not UTF-8
      Bytes({0x01, 0x01, 0xE2, 0x80, 0x02, 0x82, 0xFF}),  // fragmented, bad
  };
  for (const std::string& frame : bad_frames) {
    EXPECT_EQ(DecodeReason(frame), "WS_PROTOCOL_ERROR") << Hex(frame);
  }
}

TEST(WsFrameDecoderTest, TextSplitInsideACharacterIsValid) {
  // "é" (C3 A9) split across two fragments.
  absl::StatusOr<WsMessage> m =
      DecodeOne(Bytes({0x01, 0x01, 0xC3, 0x80, 0x01, 0xA9}));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->payload, "\xC3\xA9");
}

TEST(WsFrameDecoderTest, OversizeMessageIsRejectedBeforeItsPayload) {
  WsFrameDecoder decoder(1000);
  // Announces 2^40 bytes; only the header is fed.
  decoder.Feed(Bytes({0x82, 0x7F, 0, 0, 0x01, 0, 0, 0, 0, 0}));
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(next.status()), "WS_MESSAGE_TOO_LARGE");

  // Exactly the maximum passes; one more byte, even across fragments, fails.
  const std::string exact(1000, 'x');
  EXPECT_EQ(DecodeReason(Bytes({0x82, 0x7E, 0x03, 0xE8}) + exact, 1000), "");
  std::string fragmented = Bytes({0x02, 0x7E, 0x01, 0xF4}) +
                           std::string(500, 'x') +
                           Bytes({0x80, 0x7E, 0x01, 0xF5});
  WsFrameDecoder second(1000);
  second.Feed(fragmented);  // the last fragment's payload never arrives
  next = second.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(ReasonOf(next.status()), "WS_MESSAGE_TOO_LARGE");
}

TEST(WsFrameDecoderTest, ErrorIsSticky) {
  WsFrameDecoder decoder(1 << 20);
  decoder.Feed(Bytes({0xC2, 0x00}));
  auto first = decoder.Next();
  ASSERT_FALSE(first.ok());
  decoder.Feed(Bytes({0x82, 0x00}));
  auto second = decoder.Next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status(), first.status());
}

// A stream of server frames and the messages it carries.
struct Stream {
  std::string bytes;
  std::vector<WsMessage> messages;
};

Stream MakeStream() {
  Stream s;
  auto add_frame = [&s](WsOpcode opcode, bool fin, const std::string& data) {
    std::string client;
    EXPECT_TRUE(AppendWsClientFrame(opcode, fin, data, kRfcKey, &client).ok());
    s.bytes += ToServerFrame(client);
  };
  const std::string sizes[] = {std::string(0, 'a'), std::string(5, 'b'),
                               std::string(125, 'c'), std::string(126, 'd'),
                               std::string(70000, 'e')};
  for (const std::string& data : sizes) {
    add_frame(WsOpcode::kBinary, true, data);
    s.messages.push_back({WsOpcode::kBinary, data, absl::nullopt});
  }
  add_frame(WsOpcode::kText, false, "frag");
  add_frame(WsOpcode::kPing, true, "p");
  s.messages.push_back({WsOpcode::kPing, "p", absl::nullopt});
  add_frame(WsOpcode::kContinuation, false, std::string(300, 'm'));
  add_frame(WsOpcode::kContinuation, true, "end");
  s.messages.push_back(
      {WsOpcode::kText, "frag" + std::string(300, 'm') + "end", absl::nullopt});
  s.bytes += Bytes({0x88, 0x02, 0x03, 0xE8});
  s.messages.push_back({WsOpcode::kClose, "", uint16_t{1000}});
  return s;
}

void ExpectChunkingGivesMessages(const Stream& s,
                                 const std::vector<size_t>& cuts) {
  WsFrameDecoder decoder(1 << 20);
  std::vector<WsMessage> got;
  size_t pos = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : s.bytes.size();
    decoder.Feed(absl::string_view(s.bytes).substr(pos, end - pos));
    pos = end;
    while (true) {
      auto next = decoder.Next();
      ASSERT_TRUE(next.ok()) << next.status();
      if (!next->has_value()) break;
      got.push_back(std::move(**next));
    }
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  ASSERT_EQ(got.size(), s.messages.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].opcode, s.messages[i].opcode) << i;
    EXPECT_EQ(got[i].payload, s.messages[i].payload) << i;
    EXPECT_EQ(got[i].close_code, s.messages[i].close_code) << i;
  }
}

TEST(WsFrameDecoderTest, OneByteAtATimeAndRandomChunkings) {
  const Stream s = MakeStream();
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < s.bytes.size(); ++i) every_byte.push_back(i);
  ExpectChunkingGivesMessages(s, every_byte);
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937 random(seed);
    std::uniform_int_distribution<size_t> step(1, 4096);
    std::vector<size_t> cuts;
    for (size_t at = step(random); at < s.bytes.size(); at += step(random)) {
      cuts.push_back(at);
    }
    ExpectChunkingGivesMessages(s, cuts);
  }
}

}  // namespace
}  // namespace cloudlink::websocket

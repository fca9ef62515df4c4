#include "server/common/utf8.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "tests/testing/byte_strings.h"

namespace cloudlink {
namespace {

using ::cloudlink::testing::Bytes;

TEST(Utf8Test, AcceptsEveryEncodingLengthAtItsBoundaries) {
  const std::string valid[] = {
      "",
      "plain ascii",
      Bytes({0x7F}),                    // U+007F
      Bytes({0xC2, 0x80}),              // U+0080
      Bytes({0xDF, 0xBF}),              // U+07FF
      Bytes({0xE0, 0xA0, 0x80}),        // U+0800
      Bytes({0xED, 0x9F, 0xBF}),        // U+D7FF, just below the surrogates
      Bytes({0xEE, 0x80, 0x80}),        // U+E000, just above them
      Bytes({0xEF, 0xBF, 0xBF}),        // U+FFFF
      Bytes({0xF0, 0x90, 0x80, 0x80}),  // U+10000
      Bytes({0xF4, 0x8F, 0xBF, 0xBF}),  // U+10FFFF
  };
  for (const std::string& text : valid) {
    EXPECT_TRUE(IsValidUtf8(text)) << text.size();
    EXPECT_TRUE(IsValidMqttUtf8(text)) << text.size();
  }
}

TEST(Utf8Test, RejectsMalformedSequences) {
  const std::string invalid[] = {
      Bytes({0x80}),                    // lone continuation
      Bytes({0xC0, 0x80}),              // overlong U+0000
      Bytes({0xC1, 0xBF}),              // overlong
      Bytes({0xE0, 0x9F, 0xBF}),        // overlong 3-byte
      Bytes({0xF0, 0x8F, 0xBF, 0xBF}),  // overlong 4-byte
      Bytes({0xED, 0xA0, 0x80}),        // U+D800
      Bytes({0xED, 0xBF, 0xBF}),        // U+DFFF
      Bytes({0xF4, 0x90, 0x80, 0x80}),  // U+110000
      Bytes({0xF5, 0x80, 0x80, 0x80}),  // lead byte past F4
      Bytes({0xFF}),
      Bytes({0xC3}),              // truncated
      Bytes({0xE2, 0x82}),        // truncated
      Bytes({0xE2, 0x28, 0xA1}),  // bad continuation
  };
  for (const std::string& text : invalid) {
    EXPECT_FALSE(IsValidUtf8(text)) << text.size();
    EXPECT_FALSE(IsValidMqttUtf8(text)) << text.size();
  }
}

TEST(Utf8Test, FindsABadByteAtEveryPositionOfTheAsciiFastPath) {
  for (size_t length = 1; length <= 24; ++length) {
    for (size_t at = 0; at < length; ++at) {
      std::string text(length, 'a');
      text[at] = static_cast<char>(0xFF);
      EXPECT_FALSE(IsValidUtf8(text)) << length << " " << at;
      text[at] = 'b';
      EXPECT_TRUE(IsValidUtf8(text));
    }
  }
  // A multi-byte sequence that ends exactly at the end of the text.
  EXPECT_TRUE(IsValidUtf8(std::string(8, 'a') + Bytes({0xC3, 0xA9})));
  EXPECT_FALSE(IsValidUtf8(std::string(8, 'a') + Bytes({0xF0, 0x90, 0x80})));
}

TEST(Utf8Test, MqttStringsMayNotContainNul) {
  EXPECT_TRUE(IsValidUtf8(Bytes({'a', 0x00})));
  EXPECT_FALSE(IsValidMqttUtf8(Bytes({'a', 0x00})));
  EXPECT_FALSE(IsValidMqttUtf8(Bytes({0x00})));
}

TEST(Utf8Test, PrefixNeverCutsASequence) {
  EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
  EXPECT_EQ(Utf8Prefix("abcdef", 3), "abc");
  // "é" is C3 A9: a cut after C3 backs off to before it.
  EXPECT_EQ(Utf8Prefix("ab\xC3\xA9", 3), "ab");
  EXPECT_EQ(Utf8Prefix("ab\xC3\xA9", 4), "ab\xC3\xA9");
  // "€" is E2 82 AC.
  EXPECT_EQ(Utf8Prefix("\xE2\x82\xAC\xE2\x82\xAC", 5), "\xE2\x82\xAC");
  EXPECT_TRUE(IsValidUtf8(Utf8Prefix("\xE2\x82\xAC\xE2\x82\xAC", 4)));
}

}  // namespace
}  // namespace cloudlink

#include "server/publish/crc32c.h"

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace cloudlink::publish {
namespace {

// The 32-byte vectors of RFC 3720 (iSCSI) appendix B.4.
std::string Ascending() {
  std::string bytes;
  for (int i = 0; i < 32; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

std::string Descending() {
  std::string bytes;
  for (int i = 31; i >= 0; --i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

TEST(Crc32cTest, KnownAnswers) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // the CRC catalogue's check
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(Ascending()), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(Descending()), 0x113FDB5Cu);
}

TEST(Crc32cTest, ExtendingEqualsTheWholeAtEverySplit) {
  const std::string inputs[] = {"123456789", std::string(32, '\0'),
                                std::string(32, '\xFF'), Ascending()};
  for (const std::string& input : inputs) {
    const uint32_t whole = Crc32c(input);
    for (size_t split = 0; split <= input.size(); ++split) {
      const absl::string_view view(input);
      const uint32_t first = Crc32c(view.substr(0, split));
      EXPECT_EQ(Crc32c(view.substr(split), first), whole)
          << "split at " << split << " of " << input.size();
    }
  }
}

TEST(Crc32cTest, ExtendingByteByByteEqualsTheWhole) {
  const std::string input = Ascending();
  uint32_t crc = 0;
  for (char c : input) crc = Crc32c(absl::string_view(&c, 1), crc);
  EXPECT_EQ(crc, 0x46DD794Eu);
}

TEST(Crc32cTest, OneFlippedBitChangesTheChecksum) {
  const std::string input = "123456789";
  for (size_t i = 0; i < input.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = input;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      EXPECT_NE(Crc32c(flipped), 0xE3069283u) << "byte " << i << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace cloudlink::publish

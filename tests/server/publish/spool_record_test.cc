#include "server/publish/spool_record.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/publish/crc32c.h"

namespace cloudlink::publish {
namespace {

// The problem sentence of reading `bytes`, "" when it reads.
std::string Problem(absl::string_view bytes) {
  absl::StatusOr<SpoolRecord> record = ReadSpoolRecord(bytes);
  if (record.ok()) return "";
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss);
  return std::string(record.status().message());
}

TEST(SpoolRecordTest, DataAndAckRecordsReadBack) {
  std::string bytes;
  AppendSpoolDataRecord(7, "node-instance-info", "payload", &bytes);
  const size_t first = bytes.size();
  EXPECT_EQ(first, SpoolDataRecordBytes(18, 7));
  AppendSpoolAckRecord(7, &bytes);

  absl::StatusOr<SpoolRecord> data = ReadSpoolRecord(bytes);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->type, SpoolRecordType::kData);
  EXPECT_EQ(data->sequence, 7u);
  EXPECT_EQ(data->topic, "node-instance-info");
  EXPECT_EQ(data->payload, "payload");
  EXPECT_EQ(data->size, first);

  absl::StatusOr<SpoolRecord> ack =
      ReadSpoolRecord(absl::string_view(bytes).substr(first));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->type, SpoolRecordType::kAck);
  EXPECT_EQ(ack->sequence, 7u);
  EXPECT_EQ(ack->size, kSpoolRecordHeaderBytes + 9);
}

TEST(SpoolRecordTest, LittleEndianWithCrc32cOfTheBody) {
  std::string bytes;
  AppendSpoolAckRecord(0x0102, &bytes);
  const std::string body("\x02\x02\x01\x00\x00\x00\x00\x00\x00", 9);
  const uint32_t crc = Crc32c(body);
  std::string expected("\x09\x00\x00\x00", 4);
  for (int i = 0; i < 4; ++i)
    expected.push_back(static_cast<char>(crc >> (8 * i)));
  expected += body;
  EXPECT_EQ(bytes, expected);
}

TEST(SpoolRecordTest, TornAndCorruptRecordsAreNamed) {
  std::string good;
  AppendSpoolDataRecord(1, "t", "p", &good);
  EXPECT_EQ(Problem(good), "");
  EXPECT_TRUE(
      absl::StrContains(Problem(good.substr(0, 5)), "header is cut short"));
  EXPECT_TRUE(absl::StrContains(Problem(good.substr(0, good.size() - 1)),
                                "runs past the end of the file"));
  std::string flipped = good;
  flipped.back() ^= 0x40;
  EXPECT_TRUE(absl::StrContains(Problem(flipped), "CRC does not match"));

  // Bodies whose CRC holds but which do not parse.
  auto with_body = [](const std::string& body) {
    std::string out;
    for (uint32_t v : {static_cast<uint32_t>(body.size()), Crc32c(body)}) {
      for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<char>(v >> (8 * i)));
    }
    return out + body;
  };
  const std::string seq1("\x01\x00\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_TRUE(absl::StrContains(Problem(with_body("\x03" + seq1)),
                                "does not parse"));  // unknown type
  EXPECT_TRUE(absl::StrContains(Problem(with_body("\x02" + seq1 + "x")),
                                "does not parse"));  // ack too long
  EXPECT_TRUE(absl::StrContains(
      Problem(with_body("\x01" + seq1 + std::string("\x05\x00", 2) + "ab")),
      "does not parse"));  // topic past the body
  EXPECT_TRUE(absl::StrContains(
      Problem(with_body(std::string("\x01\0\0\0\0\0\0\0\0\0\0", 11))),
      "does not parse"));  // sequence 0
}

}  // namespace
}  // namespace cloudlink::publish

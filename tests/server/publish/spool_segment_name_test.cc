#include "server/publish/spool_segment_name.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cloudlink::publish {
namespace {

TEST(SpoolSegmentNameTest, TwentyDigits) {
  EXPECT_EQ(SpoolSegmentName(1), "seg-00000000000000000001.log");
  EXPECT_EQ(SpoolSegmentName(kMaxSpoolSequence),
            "seg-04611686018427387904.log");
}

TEST(SpoolSegmentNameTest, RoundTrips) {
  for (uint64_t first : {uint64_t{1}, uint64_t{42}, kMaxSpoolSequence}) {
    const std::string name = SpoolSegmentName(first);
    EXPECT_TRUE(LooksLikeSpoolSegmentName(name)) << name;
    EXPECT_EQ(SpoolSegmentFirstSequence(name), first) << name;
  }
}

TEST(SpoolSegmentNameTest, OtherFilesAreNotSegments) {
  for (const char* name : {"spool.tmp", "seg-1.tmp", "x-seg-1.log", ""}) {
    EXPECT_FALSE(LooksLikeSpoolSegmentName(name)) << name;
    EXPECT_EQ(SpoolSegmentFirstSequence(name), absl::nullopt) << name;
  }
}

TEST(SpoolSegmentNameTest, OutOfRangeOrNotANumber) {
  for (const std::string& name :
       {std::string("seg-0.log"), std::string("seg-.log"),
        std::string("seg-12x.log"), std::string("seg--5.log"),
        absl::StrCat("seg-", kMaxSpoolSequence + 1, ".log")}) {
    EXPECT_TRUE(LooksLikeSpoolSegmentName(name)) << name;
    EXPECT_EQ(SpoolSegmentFirstSequence(name), absl::nullopt) << name;
  }
  // Fewer digits than cloudlinkd writes still name a segment.
  EXPECT_EQ(SpoolSegmentFirstSequence("seg-7.log"), uint64_t{7});
}

}  // namespace
}  // namespace cloudlink::publish

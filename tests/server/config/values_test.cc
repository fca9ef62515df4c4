#include "server/config/values.h"

#include <gtest/gtest.h>

namespace cloudlink::config {
namespace {

TEST(ParseBoolTest, AcceptsAllSpellingsInAnyCase) {
  for (const char* yes : {"yes", "YES", "True", "1", "on", "On", " yes "}) {
    EXPECT_EQ(ParseBool(yes), absl::optional<bool>(true)) << yes;
  }
  for (const char* no : {"no", "No", "FALSE", "0", "off", "OFF"}) {
    EXPECT_EQ(ParseBool(no), absl::optional<bool>(false)) << no;
  }
}

TEST(ParseBoolTest, RefusesAnythingElse) {
  for (const char* bad : {"", "y", "n", "2", "maybe", "yes please", "enable"}) {
    EXPECT_FALSE(ParseBool(bad).has_value()) << bad;
  }
}

TEST(FormatBoolTest, YesNo) {
  EXPECT_STREQ(FormatBool(true), "yes");
  EXPECT_STREQ(FormatBool(false), "no");
}

TEST(ParseRoomsTest, TrimsAndDropsEmpties) {
  EXPECT_EQ(ParseRooms("a, b,,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(ParseRooms(""), std::vector<std::string>{});
  EXPECT_EQ(ParseRooms(" , ,"), std::vector<std::string>{});
  EXPECT_EQ(ParseRooms("\tx\t"), std::vector<std::string>{"x"});
  EXPECT_EQ(ParseRooms("b,a,b"), (std::vector<std::string>{"b", "a", "b"}));
}

TEST(FormatRoomsTest, InverseOfParse) {
  std::vector<std::string> rooms = {"r1", "r-2", "r_3"};
  EXPECT_EQ(FormatRooms(rooms), "r1,r-2,r_3");
  EXPECT_EQ(ParseRooms(FormatRooms(rooms)), rooms);
  EXPECT_EQ(FormatRooms({}), "");
}

}  // namespace
}  // namespace cloudlink::config

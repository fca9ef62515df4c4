#include "server/config/authority.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace cloudlink::config {
namespace {

TEST(AuthorityTest, NamesAndAddressesWithAndWithoutPorts) {
  Authority a;
  ASSERT_EQ(ParseAuthority("app.netdata.cloud", &a), AuthorityProblem::kNone);
  EXPECT_EQ(a.host, "app.netdata.cloud");
  EXPECT_FALSE(a.ipv6_literal);
  EXPECT_FALSE(a.port.has_value());

  ASSERT_EQ(ParseAuthority("proxy_1.example:3128", &a),
            AuthorityProblem::kNone);
  EXPECT_EQ(a.host, "proxy_1.example");
  EXPECT_EQ(a.port, 3128);

  ASSERT_EQ(ParseAuthority("127.0.0.1:65535", &a), AuthorityProblem::kNone);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 65535);

  ASSERT_EQ(ParseAuthority("[2001:db8::1]:443", &a), AuthorityProblem::kNone);
  EXPECT_EQ(a.host, "2001:db8::1");
  EXPECT_TRUE(a.ipv6_literal);
  EXPECT_EQ(a.port, 443);

  ASSERT_EQ(ParseAuthority("[::1]", &a), AuthorityProblem::kNone);
  EXPECT_EQ(a.host, "::1");
  EXPECT_FALSE(a.port.has_value());
}

TEST(AuthorityTest, EachProblemHasItsCodeAndHint) {
  const std::vector<std::pair<std::string, AuthorityProblem>> cases = {
      {"", AuthorityProblem::kEmptyHost},
      {":80", AuthorityProblem::kEmptyHost},
      {"[::1", AuthorityProblem::kUnclosedBracket},
      {"[::1]x", AuthorityProblem::kTextAfterBracket},
      {"[::1]:", AuthorityProblem::kBadPort},
      {"[]", AuthorityProblem::kBadIpv6},
      {"[example.com]", AuthorityProblem::kBadIpv6},
      {"[1:2]", AuthorityProblem::kBadIpv6},
      {std::string("[::1\0]", 6), AuthorityProblem::kBadIpv6},
      {"::1", AuthorityProblem::kUnbracketedIpv6},
      {"2001:db8::1:443", AuthorityProblem::kUnbracketedIpv6},
      {"a b", AuthorityProblem::kBadHostCharacter},
      {"evil.example%2f", AuthorityProblem::kBadHostCharacter},
      {std::string("good.example\0evil", 17),
       AuthorityProblem::kBadHostCharacter},
      {"[x", AuthorityProblem::kUnclosedBracket},
      {"h[", AuthorityProblem::kBadHostCharacter},
      {"h:", AuthorityProblem::kBadPort},
      {"h:0", AuthorityProblem::kBadPort},
      {"h:65536", AuthorityProblem::kBadPort},
      {"h:+1", AuthorityProblem::kBadPort},
      {"h:-1", AuthorityProblem::kBadPort},
      {"h:080000", AuthorityProblem::kBadPort},
      {"h:1x", AuthorityProblem::kBadPort},
  };
  for (const auto& [text, problem] : cases) {
    SCOPED_TRACE(text);
    Authority a;
    EXPECT_EQ(ParseAuthority(text, &a), problem);
    EXPECT_FALSE(ProblemHint(problem).empty());
  }
  EXPECT_TRUE(ProblemHint(AuthorityProblem::kNone).empty());
}

TEST(AuthorityTest, LeadingZerosWithinFiveDigitsAreAPort) {
  Authority a;
  ASSERT_EQ(ParseAuthority("h:00443", &a), AuthorityProblem::kNone);
  EXPECT_EQ(a.port, 443);
}

}  // namespace
}  // namespace cloudlink::config

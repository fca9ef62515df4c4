#include "server/socks5/socks5_handshake.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/testing/byte_strings.h"

namespace cloudlink::socks5 {
namespace {

using ::cloudlink::testing::Bytes;

Destination DomainDestination() {
  Destination d;
  d.type = Destination::Type::kDomain;
  d.address = "mqtt.example.com";
  d.port = 443;
  return d;
}

TEST(Socks5GreetingTest, OffersNoAuthOnly) {
  EXPECT_EQ(EncodeGreeting(false), Bytes({0x05, 0x01, 0x00}));
}

TEST(Socks5GreetingTest, OffersNoAuthAndUserPass) {
  EXPECT_EQ(EncodeGreeting(true), Bytes({0x05, 0x02, 0x00, 0x02}));
}

TEST(Socks5MethodSelectionTest, NeedsTwoBytes) {
  uint8_t method = 0x77;
  EXPECT_EQ(*ParseMethodSelection("", false, &method), 0u);
  EXPECT_EQ(*ParseMethodSelection(Bytes({0x05}), false, &method), 0u);
  EXPECT_EQ(method, 0x77);
}

TEST(Socks5MethodSelectionTest, AcceptsNoAuth) {
  uint8_t method = 0x77;
  auto used = ParseMethodSelection(Bytes({0x05, 0x00, 0x99}), true, &method);
  ASSERT_TRUE(used.ok()) << used.status();
  EXPECT_EQ(*used, 2u);  // the extra byte is not consumed
  EXPECT_EQ(method, kMethodNoAuth);
}

TEST(Socks5MethodSelectionTest, AcceptsUserPassOnlyWhenOffered) {
  uint8_t method = 0;
  EXPECT_EQ(*ParseMethodSelection(Bytes({0x05, 0x02}), true, &method), 2u);
  EXPECT_EQ(method, kMethodUserPass);
  auto refused = ParseMethodSelection(Bytes({0x05, 0x02}), false, &method);
  EXPECT_EQ(ReasonOf(refused.status()), "PROXY_FAILED");
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "0x02"));
}

TEST(Socks5MethodSelectionTest, WrongVersionFailsOnFirstByte) {
  uint8_t method = 0;
  auto used = ParseMethodSelection(Bytes({0x04}), false, &method);
  EXPECT_EQ(used.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(used.status()), "PROXY_FAILED");
  EXPECT_TRUE(absl::StrContains(used.status().message(), "0x04"));
  // An HTTP proxy answering our greeting.
  EXPECT_EQ(
      ReasonOf(ParseMethodSelection("HTTP/1.1 400", false, &method).status()),
      "PROXY_FAILED");
}

TEST(Socks5MethodSelectionTest, NoAcceptableMethodWithoutCredentialsIsAuth) {
  uint8_t method = 0;
  auto used = ParseMethodSelection(Bytes({0x05, 0xFF}), false, &method);
  EXPECT_EQ(ReasonOf(used.status()), "PROXY_AUTH");
  EXPECT_TRUE(absl::StrContains(used.status().message(), "requires"));
}

TEST(Socks5MethodSelectionTest, NoAcceptableMethodWithCredentialsIsFailed) {
  uint8_t method = 0;
  auto used = ParseMethodSelection(Bytes({0x05, 0xFF}), true, &method);
  EXPECT_EQ(ReasonOf(used.status()), "PROXY_FAILED");
}

TEST(Socks5MethodSelectionTest, GssapiIsRefused) {
  uint8_t method = 0;
  EXPECT_EQ(
      ReasonOf(
          ParseMethodSelection(Bytes({0x05, 0x01}), true, &method).status()),
      "PROXY_FAILED");
}

TEST(Socks5UserPassTest, EncodesRfc1929) {
  auto request = EncodeUserPassRequest("bob", "s3cret");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(*request,
            Bytes({0x01, 3, 'b', 'o', 'b', 6, 's', '3', 'c', 'r', 'e', 't'}));
}

TEST(Socks5UserPassTest, EmptyPasswordAllowed) {
  EXPECT_EQ(*EncodeUserPassRequest("bob", ""),
            Bytes({0x01, 3, 'b', 'o', 'b', 0}));
}

TEST(Socks5UserPassTest, MaximumLengths) {
  const std::string max(255, 'x');
  auto request = EncodeUserPassRequest(max, max);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->size(), 3u + 255u + 255u);
  EXPECT_EQ(static_cast<uint8_t>((*request)[1]), 255);
  EXPECT_EQ(static_cast<uint8_t>((*request)[257]), 255);
}

TEST(Socks5UserPassTest, OversizeOrEmptyUserRefusedWithoutLeakingSecrets) {
  const std::string long_user(256, 'u');
  const std::string long_password(256, 'p');
  auto user = EncodeUserPassRequest(long_user, "pw");
  EXPECT_EQ(user.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(user.status()), "PROXY_INVALID");
  auto password = EncodeUserPassRequest("bob", long_password);
  EXPECT_EQ(ReasonOf(password.status()), "PROXY_INVALID");
  EXPECT_FALSE(absl::StrContains(password.status().message(), "ppp"));
  EXPECT_EQ(ReasonOf(EncodeUserPassRequest("", "pw").status()),
            "PROXY_INVALID");
}

TEST(Socks5UserPassTest, ReplySuccessAndPartial) {
  EXPECT_EQ(*ParseUserPassReply(""), 0u);
  EXPECT_EQ(*ParseUserPassReply(Bytes({0x01})), 0u);
  EXPECT_EQ(*ParseUserPassReply(Bytes({0x01, 0x00})), 2u);
  EXPECT_EQ(*ParseUserPassReply(Bytes({0x05, 0x00})), 2u);  // lenient version
}

TEST(Socks5UserPassTest, ReplyFailureIsAuth) {
  auto reply = ParseUserPassReply(Bytes({0x01, 0x01}));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(reply.status()), "PROXY_AUTH");
  EXPECT_EQ(ReasonOf(ParseUserPassReply(Bytes({0x01, 0xFF})).status()),
            "PROXY_AUTH");
}

TEST(Socks5UserPassTest, ReplyWrongVersion) {
  EXPECT_EQ(ReasonOf(ParseUserPassReply(Bytes({0x02})).status()),
            "PROXY_FAILED");
}

TEST(Socks5DestinationTest, Ipv4LiteralStaysAddressEvenForSocks5h) {
  auto d = ResolveDestination("10.1.2.3", 8443, true);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->type, Destination::Type::kIpv4);
  EXPECT_EQ(d->address, Bytes({10, 1, 2, 3}));
  EXPECT_EQ(d->ToString(), "10.1.2.3:8443");
}

TEST(Socks5DestinationTest, Ipv6Literal) {
  auto d = ResolveDestination("::1", 443, false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->type, Destination::Type::kIpv6);
  ASSERT_EQ(d->address.size(), 16u);
  EXPECT_EQ(d->address[15], 1);
  EXPECT_EQ(d->ToString(), "[::1]:443");
}

TEST(Socks5DestinationTest, NameKeptForSocks5h) {
  auto d = ResolveDestination("no-such-host.invalid", 443, true);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->type, Destination::Type::kDomain);
  EXPECT_EQ(d->address, "no-such-host.invalid");
}

TEST(Socks5DestinationTest, NameResolvedLocallyForSocks5) {
  auto d = ResolveDestination("localhost", 443, false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_NE(d->type, Destination::Type::kDomain);
}

TEST(Socks5DestinationTest, UnresolvableNameForSocks5IsConnectFailed) {
  auto d = ResolveDestination("no-such-host.invalid", 443, false);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(d.status()), "CONNECT_FAILED");
  EXPECT_TRUE(absl::StrContains(d.status().message(), "no-such-host.invalid"));
}

TEST(Socks5DestinationTest, BadInputs) {
  EXPECT_EQ(ReasonOf(ResolveDestination("", 443, true).status()),
            "PROXY_INVALID");
  EXPECT_EQ(ReasonOf(ResolveDestination("h", 0, true).status()),
            "PROXY_INVALID");
  EXPECT_EQ(ReasonOf(ResolveDestination("h", 65536, true).status()),
            "PROXY_INVALID");
  EXPECT_EQ(
      ReasonOf(ResolveDestination(std::string(256, 'a'), 443, true).status()),
      "PROXY_INVALID");
}

TEST(Socks5ConnectRequestTest, Domain) {
  auto request = EncodeConnectRequest(DomainDestination());
  ASSERT_TRUE(request.ok());
  std::string expected = Bytes({0x05, 0x01, 0x00, 0x03, 16});
  expected += "mqtt.example.com";
  expected += Bytes({0x01, 0xBB});
  EXPECT_EQ(*request, expected);
}

TEST(Socks5ConnectRequestTest, Ipv4AndIpv6) {
  auto v4 = EncodeConnectRequest(*ResolveDestination("127.0.0.1", 1080, false));
  EXPECT_EQ(*v4, Bytes({0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, 0x04, 0x38}));
  auto v6 = EncodeConnectRequest(*ResolveDestination("::1", 65535, false));
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->size(), 4u + 16u + 2u);
  EXPECT_EQ((*v6)[3], 0x04);
  EXPECT_EQ(v6->substr(20), Bytes({0xFF, 0xFF}));
}

TEST(Socks5ConnectRequestTest, OversizeOrMalformedRefused) {
  Destination d = DomainDestination();
  d.address = std::string(256, 'a');
  EXPECT_EQ(ReasonOf(EncodeConnectRequest(d).status()), "PROXY_INVALID");
  d.address = std::string(255, 'a');
  EXPECT_TRUE(EncodeConnectRequest(d).ok());
  d.address.clear();
  EXPECT_EQ(ReasonOf(EncodeConnectRequest(d).status()), "PROXY_INVALID");
  Destination v4;
  v4.type = Destination::Type::kIpv4;
  v4.address = "abc";
  v4.port = 1;
  EXPECT_EQ(ReasonOf(EncodeConnectRequest(v4).status()), "PROXY_INVALID");
}

TEST(Socks5ConnectReplyTest, Ipv4ReplyByteByByte) {
  const std::string reply =
      Bytes({0x05, 0x00, 0x00, 0x01, 10, 0, 0, 1, 0x1F, 0x90});
  const Destination d = DomainDestination();
  for (size_t i = 0; i < reply.size(); ++i) {
    auto used = ParseConnectReply(reply.substr(0, i), d);
    ASSERT_TRUE(used.ok()) << i;
    EXPECT_EQ(*used, 0u) << i;
  }
  EXPECT_EQ(*ParseConnectReply(reply + "TLS", d), reply.size());
}

TEST(Socks5ConnectReplyTest, DomainAndIpv6Replies) {
  const Destination d = DomainDestination();
  std::string domain = Bytes({0x05, 0x00, 0x00, 0x03, 3, 'a', 'b', 'c', 0, 1});
  EXPECT_EQ(*ParseConnectReply(domain.substr(0, 4), d), 0u);
  EXPECT_EQ(*ParseConnectReply(domain.substr(0, 9), d), 0u);
  EXPECT_EQ(*ParseConnectReply(domain, d), 10u);
  std::string v6 = Bytes({0x05, 0x00, 0x00, 0x04});
  v6 += std::string(16, '\0') + Bytes({0, 1});
  EXPECT_EQ(*ParseConnectReply(v6.substr(0, 21), d), 0u);
  EXPECT_EQ(*ParseConnectReply(v6, d), 22u);
}

TEST(Socks5ConnectReplyTest, NotAllowedByRulesetIsAPolicyRefusal) {
  auto refused = ParseConnectReply(Bytes({0x05, 0x02}), DomainDestination());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(refused.status()), "PROXY_REFUSED");
  EXPECT_TRUE(absl::StrContains(refused.status().message(),
                                "refused the connection to "
                                "mqtt.example.com:443"))
      << refused.status();
  EXPECT_TRUE(
      absl::StrContains(refused.status().message(), "check the proxy's rules"))
      << refused.status();
}

TEST(Socks5ConnectReplyTest, EveryReplyCodeHasAMeaning) {
  const Destination d = DomainDestination();
  const char* meanings[] = {
      "general SOCKS server failure", "connection not allowed by ruleset",
      "network unreachable",          "host unreachable",
      "connection refused",           "TTL expired",
      "command not supported",        "address type not supported"};
  for (int code = 1; code <= 8; ++code) {
    // Two bytes are enough to know it failed.
    auto used = ParseConnectReply(Bytes({0x05, code}), d);
    EXPECT_EQ(used.status().code(), absl::StatusCode::kUnavailable);
    // Reply 2 is a policy refusal, not a failure of the proxy.
    EXPECT_EQ(ReasonOf(used.status()),
              code == 0x02 ? "PROXY_REFUSED" : "PROXY_FAILED")
        << code;
    EXPECT_TRUE(absl::StrContains(used.status().message(), meanings[code - 1]))
        << used.status();
    EXPECT_TRUE(
        absl::StrContains(used.status().message(), "mqtt.example.com:443"));
  }
  EXPECT_EQ(ReplyCodeMeaning(0), "succeeded");
  EXPECT_EQ(ReplyCodeMeaning(0x09), "unassigned reply code 0x09");
  EXPECT_TRUE(absl::StrContains(
      ParseConnectReply(Bytes({0x05, 0x42}), d).status().message(),
      "unassigned reply code 0x42"));
}

TEST(Socks5ConnectReplyTest, WrongVersionAndUnknownAddressType) {
  const Destination d = DomainDestination();
  EXPECT_EQ(ReasonOf(ParseConnectReply(Bytes({0x00}), d).status()),
            "PROXY_FAILED");
  EXPECT_EQ(
      ReasonOf(ParseConnectReply(Bytes({0x05, 0x00, 0x00, 0x02}), d).status()),
      "PROXY_FAILED");
}

}  // namespace
}  // namespace cloudlink::socks5

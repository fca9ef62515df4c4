#include "client/channel_target.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using ::testing::HasSubstr;

ChannelTarget Remote() {
  ChannelTarget target;
  target.socket = "/run/cloudlink/cloudlink.sock";
  target.address = "node1.example.com:7443";
  target.tls_cert = "/etc/cl/me.pem";
  target.tls_key = "/etc/cl/me.key";
  return target;
}

TEST(ChannelTargetTest, SocketNeedsNoTlsFlags) {
  ChannelTarget target;
  target.socket = "/run/cloudlink/cloudlink.sock";
  EXPECT_TRUE(CheckChannelTarget(target).ok());
  EXPECT_EQ(target.Describe(), "unix:/run/cloudlink/cloudlink.sock");
  target.tls_ca = "/etc/cl/ca.pem";
  absl::Status status = CheckChannelTarget(target);
  EXPECT_EQ(ReasonOf(status), "BAD_FLAG_VALUE");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("--tls-ca is only used with --target"));
}

TEST(ChannelTargetTest, TargetNeedsCertificateAndKey) {
  EXPECT_TRUE(CheckChannelTarget(Remote()).ok());
  EXPECT_EQ(Remote().Describe(), "node1.example.com:7443 (mutual TLS)");
  ChannelTarget no_cert = Remote();
  no_cert.tls_cert = "";
  EXPECT_THAT(std::string(CheckChannelTarget(no_cert).message()),
              HasSubstr("MISSING_FLAG: --target needs --tls-cert"));
  ChannelTarget no_key = Remote();
  no_key.tls_key = "";
  EXPECT_THAT(std::string(CheckChannelTarget(no_key).message()),
              HasSubstr("--target needs --tls-key"));
}

TEST(ChannelTargetTest, TargetMustHaveAPort) {
  for (const char* address : {"node1", "node1:"}) {
    ChannelTarget target = Remote();
    target.address = address;
    EXPECT_THAT(std::string(CheckChannelTarget(target).message()),
                HasSubstr("--target must be HOST:PORT"))
        << address;
  }
}

TEST(ChannelTargetTest, UnreadableTlsFileIsNamed) {
  ChannelTarget target = Remote();
  target.tls_cert = "/nonexistent/me.pem";
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(target);
  ASSERT_FALSE(channel.ok());
  EXPECT_EQ(ReasonOf(channel.status()), "TLS_FILE_UNREADABLE");
  EXPECT_THAT(std::string(channel.status().message()),
              HasSubstr("--tls-cert: cannot read /nonexistent/me.pem"));
}

TEST(ChannelTargetTest, SocketChannelIsMadeWithoutConnecting) {
  ChannelTarget target;
  target.socket = "/nonexistent/cl.sock";
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(target);
  ASSERT_TRUE(channel.ok());
  EXPECT_NE(*channel, nullptr);
}

}  // namespace
}  // namespace cloudlink::client

// The MQTT link's TLS (libwebsockets) with a clock that is wrong: a broker
// whose certificate becomes valid two days from now fails verification
// with advice about the clock and the local time, not about the CA.

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/server/transport/wss_test_fixture.h"
#include "tests/testing/loopback_port.h"
#include "tests/testing/redate_certificate.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::transport {
namespace {

using wss_testing::kWait;
using wss_testing::WssConnectionTest;

TEST_F(WssConnectionTest, NotYetValidCertificateBlamesTheClock) {
  const absl::Time now = absl::Now();
  ASSERT_TRUE(testing::RedateCertificate(
      Path("server.pem"), Path("ca.key"), now + absl::Hours(48),
      now + absl::Hours(24 * 30), Path("future.pem")));
  // mosquitto (its lws server) refuses to serve a certificate that is not
  // yet valid; the failure comes in the TLS handshake anyway, so a plain
  // TLS server is broker enough.
  const int port = testing::PickFreePort();
  testing::SubprocessOptions options;
  options.argv = {"/usr/bin/openssl",
                  "s_server",
                  "-accept",
                  absl::StrCat("127.0.0.1:", port),
                  "-cert",
                  Path("future.pem"),
                  "-key",
                  Path("server.key"),
                  "-quiet"};
  options.stderr_path = Path("future.log");
  auto server = testing::Subprocess::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(testing::WaitFor(
      [&] { return testing::LoopbackPortAcceptsConnections(port); }, kWait))
      << testing::ReadFileOrEmpty(Path("future.log"));

  const absl::Status status = ExpectFailure(Target(port), "TLS_VERIFY_FAILED");
  EXPECT_TRUE(absl::StrContains(status.message(),
                                "is not yet valid by this machine's clock"))
      << status;
  EXPECT_TRUE(
      absl::StrContains(status.message(), "the system clock is probably wrong"))
      << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "insecure")) << status;
}

}  // namespace
}  // namespace cloudlink::transport

#include "server/api/tls_listener.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/api/tcp_listen.h"

namespace cloudlink::api {
namespace {

using ::testing::HasSubstr;

// A port that cannot be bound used to end the process: the half-made
// listener's destructor joined a thread that never started.
TEST(TlsListenerTest, AddressInUseIsListenFailed) {
  absl::StatusOr<TcpListenSockets> taken = ListenTcp("127.0.0.1:0", 8);
  ASSERT_TRUE(taken.ok()) << taken.status();
  TlsListenerOptions options;
  options.address = absl::StrCat("127.0.0.1:", taken->port);
  absl::StatusOr<std::unique_ptr<TlsListener>> listener =
      TlsListener::Start(options, nullptr, nullptr, nullptr);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(listener.status().message()),
              HasSubstr("LISTEN_FAILED: cannot listen on " + options.address +
                        " (--listen): "));
  for (int fd : taken->fds) close(fd);
}

TEST(TlsListenerTest, AddressWithoutPortIsListenFailed) {
  TlsListenerOptions options;
  options.address = "127.0.0.1";
  absl::StatusOr<std::unique_ptr<TlsListener>> listener =
      TlsListener::Start(options, nullptr, nullptr, nullptr);
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(std::string(listener.status().message()),
              HasSubstr("(--listen): no port; is the address local"));
}

}  // namespace
}  // namespace cloudlink::api

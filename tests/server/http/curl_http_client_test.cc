// CurlHttpClient against a local plain-HTTP server (httplib): the limits on
// what one answer may hold.

#include "server/http/curl_http_client.h"

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "server/common/error.h"
#include "tests/testing/test_env.h"

namespace cloudlink::http {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr size_t kHugeBytes = size_t{512} << 20;

// The process's peak resident set (VmHWM), in bytes.
size_t PeakRss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      size_t kib = 0;
      std::string digits;
      for (char c : line) {
        if (c >= '0' && c <= '9') digits.push_back(c);
      }
      if (absl::SimpleAtoi(digits, &kib)) return kib << 10;
    }
  }
  return 0;
}

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A body streamed in 64 KiB chunks without a length (curl cannot refuse
    // it up front), one with a Content-Length over the limit, one at it.
    server_.Get("/huge", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider(
          "application/json", [](size_t offset, httplib::DataSink& sink) {
            static const std::string chunk(64 << 10, 'x');
            if (offset >= kHugeBytes) {
              sink.done();
              return true;
            }
            return sink.write(chunk.data(), chunk.size());
          });
    });
    server_.Get("/sized", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(kMaxResponseBodyBytes + 1, 'y'),
                      "application/json");
    });
    server_.Get("/limit", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(kMaxResponseBodyBytes, 'z'),
                      "application/json");
    });
    server_.Get(
        "/headers", [](const httplib::Request&, httplib::Response& res) {
          for (int i = 0; i < 4096; ++i) {
            res.set_header(absl::StrCat("X-Filler-", i), std::string(100, 'h'));
          }
          res.set_content("{}", "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    // Bound already: connections wait in the backlog until it accepts.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  absl::StatusOr<HttpResponse> Get(const std::string& path) {
    HttpRequest request;
    request.url = absl::StrCat("http://127.0.0.1:", port_, path);
    TransportOptions options;
    options.total_timeout = absl::Seconds(20);
    return CurlHttpClient().Send(request, options);
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(CurlHttpClientTest, AHugeBodyIsCutOffAtTheLimitWithItsReason) {
  const size_t before = PeakRss();
  absl::StatusOr<HttpResponse> response = Get("/huge");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(response.status()), "RESPONSE_TOO_LARGE");
  EXPECT_THAT(std::string(response.status().message()),
              AllOf(HasSubstr("/huge"), HasSubstr("larger than 1 MiB")));
  EXPECT_LT(PeakRss() - before, size_t{50} << 20);
}

TEST_F(CurlHttpClientTest, AnAnnouncedLengthOverTheLimitIsRefused) {
  absl::StatusOr<HttpResponse> response = Get("/sized");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(ReasonOf(response.status()), "RESPONSE_TOO_LARGE");
}

TEST_F(CurlHttpClientTest, TooManyHeaderBytesAreRefused) {
  absl::StatusOr<HttpResponse> response = Get("/headers");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(ReasonOf(response.status()), "RESPONSE_TOO_LARGE");
}

TEST_F(CurlHttpClientTest, ABodyAtTheLimitArrivesWhole) {
  absl::StatusOr<HttpResponse> response = Get("/limit");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), kMaxResponseBodyBytes);
}

}  // namespace
}  // namespace cloudlink::http

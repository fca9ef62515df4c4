#pragma once

// HTTPS requests to the cloud (claim, token regeneration, env, challenge,
// password) through the node's proxy decision. An interface so the parts
// above it can be tested against a scripted client; CurlHttpClient
// (curl_http_client.h) is the real one.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/config/proxy.h"

namespace cloudlink::http {

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  // Header names in lowercase; for repeated headers the last one wins.
  std::map<std::string, std::string> headers;
  std::string body;
};

// How to reach the cloud for one request.
struct TransportOptions {
  // Resolved proxy: kDirect, kHttp, kSocks5 or kSocks5h (never kEnv; resolve
  // it with config::ResolveProxy first).
  config::ProxyConfig proxy;
  // Turns off certificate and host name verification.
  bool insecure = false;
  // PEM file of CAs trusted in addition to the system's; "" for none.
  std::string ca_file;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration total_timeout = absl::Seconds(10);
};

// Limits on what one answer may hold; the cloud's JSON answers are a few
// KiB.
inline constexpr size_t kMaxResponseBodyBytes = size_t{1} << 20;
inline constexpr size_t kMaxResponseHeaderBytes = size_t{256} << 10;

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request` and returns the response, whatever its HTTP status.
  // Transport failures are UNAVAILABLE with one of these reasons, and a
  // message naming the URL and the proxy (credentials redacted):
  //   CONNECT_FAILED     DNS, refused, reset, timed out
  //   TLS_VERIFY_FAILED  the server's certificate or name did not verify
  //   TLS_FAILED         any other TLS failure
  //   PROXY_FAILED       the proxy could not be reached or refused the tunnel
  //   PROXY_AUTH         the proxy rejected the credentials (HTTP 407, SOCKS5)
  //   RESPONSE_TOO_LARGE the answer's body is over kMaxResponseBodyBytes or
  //                      its headers over kMaxResponseHeaderBytes (the
  //                      transfer is cut off there, so memory stays bounded)
  // Thread-safe.
  virtual absl::StatusOr<HttpResponse> Send(
      const HttpRequest& request, const TransportOptions& options) = 0;
};

}  // namespace cloudlink::http

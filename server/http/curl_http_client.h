#pragma once

// The real HttpClient, on libcurl (OpenSSL). Always sets the proxy
// explicitly, so libcurl never reads http_proxy and friends itself; follows
// no redirects; speaks only http and https.

#include "absl/status/statusor.h"
#include "server/http/http_client.h"

namespace cloudlink::http {

class CurlHttpClient : public HttpClient {
 public:
  // Initialises libcurl once per process.
  CurlHttpClient();
  // See HttpClient::Send. INTERNAL for an unresolved "env" proxy.
  // Thread-safe (one curl handle per call).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request,
                                    const TransportOptions& options) override;
};

}  // namespace cloudlink::http

#pragma once

// Why an HTTP proxy refused our CONNECT. libwebsockets 4.1 reports any
// answer other than 200 as "proxy not h1" and drops the status, so a proxy
// that refuses for policy (tinyproxy's ConnectPort, an allow list: 403)
// looked like one that wants other credentials (407). After such a failure
// the transport asks the proxy the same CONNECT once more on a connection
// of its own and reads only the status line.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/proxy.h"

namespace cloudlink::transport {

// Connects to the HTTP `proxy` (kHttp), sends "CONNECT host:port" with its
// Basic credentials as lws does, reads the answer's status line and closes
// the connection; the whole exchange is bounded by `timeout`. Returns the
// status code (200 when the proxy now accepts). Errors: UNAVAILABLE
// PROXY_FAILED when the proxy cannot be reached, does not answer in time or
// answers something that is not HTTP; the message never holds the
// password. Blocking; thread-compatible.
absl::StatusOr<int> ProbeHttpConnectStatus(const config::ProxyConfig& proxy,
                                           absl::string_view host, int port,
                                           absl::Duration timeout);

// The status for a CONNECT to `target` ("host:port") that the proxy (shown
// as `proxy_shown`, redacted) answered with `status` (not 200): 407 and 401
// (tinyproxy's answer to bad Basic credentials) are UNAVAILABLE PROXY_AUTH,
// "check the proxy user and password"; 5xx (the proxy could not reach the
// target) is UNAVAILABLE PROXY_FAILED; any other is UNAVAILABLE
// PROXY_REFUSED, "the proxy refused the CONNECT to TARGET with status N;
// check the proxy's allow rules". `detail` ("" for none) ends the message in
// parentheses. Pure.
absl::Status ProxyConnectRefusal(int status, absl::string_view target,
                                 absl::string_view proxy_shown,
                                 absl::string_view detail);

// Refines `status`, what lws's text said about a failed connect through the
// HTTP `proxy` to host:port: when it is PROXY_AUTH (lws 4.1 reports every
// refusal so), asks the proxy once more (ProbeHttpConnectStatus, bounded by
// `timeout`) and returns ProxyConnectRefusal for the real status, ending
// with `lws_text`. Any other status, or a probe that fails or now gets 200,
// leaves `status` as it is. Blocking for at most `timeout`.
absl::Status RefineHttpProxyFailure(absl::Status status,
                                    const config::ProxyConfig& proxy,
                                    absl::string_view host, int port,
                                    absl::string_view lws_text,
                                    absl::Duration timeout);

}  // namespace cloudlink::transport

#pragma once

// What went wrong, from libwebsockets' words: lws 4.1 reports a failed
// client connection only as a line of text.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink::transport {

// Maps the text lws 4.1 passes with LWS_CALLBACK_CLIENT_CONNECTION_ERROR
// (may be empty) to the UNAVAILABLE status WssListener::OnClosed reports:
// CONNECT_FAILED, TLS_VERIFY_FAILED, TLS_FAILED, PROXY_AUTH (lws's "proxy not
// h1": the HTTP proxy answered CONNECT with something other than 200, which
// with lws 4.1 we cannot tell apart from a 407; the transport then asks the
// proxy itself, http_proxy_probe.h), PROXY_FAILED or
// WS_UPGRADE_FAILED. The message always ends with lws's own text in
// parentheses. `via_http_proxy` words the sentences for the proxy case.
absl::Status StatusFromLwsConnectionError(absl::string_view lws_text,
                                          bool via_http_proxy);

}  // namespace cloudlink::transport

#include "server/transport/lws_connection_error.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::transport {
namespace {

absl::Status Unavailable(const Reason& reason, absl::string_view sentence) {
  return Error(absl::StatusCode::kUnavailable, reason, sentence);
}

}  // namespace

absl::Status StatusFromLwsConnectionError(absl::string_view lws_text,
                                          bool via_http_proxy) {
  const std::string detail =
      absl::StrCat(" (", lws_text.empty() ? "no detail" : lws_text, ")");
  const std::string lower = absl::AsciiStrToLower(lws_text);
  auto has = [&](absl::string_view needle) {
    return absl::StrContains(lower, needle);
  };
  if (has("proxy not h1")) {
    return Unavailable(
        reason::kProxyAuth,
        absl::StrCat("the HTTP proxy refused the CONNECT request, usually "
                     "407 Proxy Authentication Required: check the proxy "
                     "user and password",
                     detail));
  }
  if (has("proxy")) {
    return Unavailable(reason::kProxyFailed,
                       absl::StrCat("proxy negotiation failed", detail));
  }
  if (has("certificate verify") || has("x509") || has("cert") ||
      has("self signed") || has("self-signed") || has("hostname mismatch") ||
      has("verify")) {
    return Unavailable(
        reason::kTlsVerifyFailed,
        absl::StrCat("TLS certificate verification failed", detail));
  }
  if (has("tls") || has("ssl") || has("alert") || has("handshake failure")) {
    return Unavailable(reason::kTlsFailed,
                       absl::StrCat("the TLS handshake failed", detail));
  }
  if (has("hs:") || has("upgrade") || has("101") || has("sec-websocket") ||
      has("subprotocol") || has("accept") || has("bad response")) {
    return Unavailable(
        reason::kWsUpgradeFailed,
        absl::StrCat("the server refused the WebSocket upgrade", detail));
  }
  std::string what = "connection failed";
  if (has("refused")) {
    what = "connection refused";
  } else if (has("timed out") || has("timeout")) {
    what = "connection timed out";
  } else if (has("dns") || has("getaddrinfo") || has("resolve") ||
             has("lookup")) {
    what = "the host name could not be resolved";
  } else if (has("unreachable")) {
    what = "network unreachable";
  }
  if (via_http_proxy) what += " (to the HTTP proxy)";
  return Unavailable(reason::kConnectFailed, absl::StrCat(what, detail));
}

}  // namespace cloudlink::transport

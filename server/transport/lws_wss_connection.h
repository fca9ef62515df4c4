#pragma once

// WssConnector and WssConnection on libwebsockets 4.1.
//
// How each WssTarget setting reaches lws:
// - One lws context (with its default vhost) per connection: proxy and CA
//   are vhost settings in 4.1.
// - TLS: SNI, the Host header and certificate host name verification all use
//   the endpoint's host (lws_client_connect_info.host), also through the
//   SOCKS5 relay, where lws connects to the relay's Unix socket
//   (.address = "+/tmp/cl.XXXXXX/relay"). `insecure` sets
//   LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
//   LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE; `ca_file` becomes
//   client_ssl_ca_filepath (added to the system store).
// - Proxy: kHttp → http_proxy_address "user:pass@host:port" (lws sends
//   CONNECT with Basic auth); every other kind sets an explicit "no proxy" so
//   lws never reads http_proxy itself. kSocks5/kSocks5h → Socks5Relay.
//   kEnv must be resolved by the caller (URL_INVALID otherwise). An IPv6 HTTP
//   proxy host, or credentials longer than lws 4.1 can carry (95 bytes for
//   "user:password"), are refused with PROXY_UNSUPPORTED.
// - Timeouts: tcp_timeout → connect_timeout_secs, proxy_timeout →
//   timeout_secs (lws's per-step network timeout: proxy reply, TLS, upgrade),
//   both rounded up to whole seconds; connect_budget is our own lws_sul timer.
// - DNS for direct and HTTP-proxy connections is lws's blocking getaddrinfo,
//   inside Connect()/Service() on the owner's thread.
//
// lws logging is process-wide: the first Connect() routes lws's error lines
// (only errors) to cloudlink's log as warnings, prefixed "LWS: ". lws error
// lines name hosts and states, never credentials.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::transport {

// The parts of a "wss://host[:port][/path]" URL (scheme case-insensitive;
// IPv6 hosts in brackets; port default 443; path default "/", query kept).
struct WssUrl {
  std::string host;  // without brackets
  int port = 443;
  std::string path;  // starts with '/'
};

// Connects with libwebsockets; stateless, so one instance serves the whole
// process.
class LwsWssConnector final : public WssConnector {
 public:
  absl::StatusOr<std::unique_ptr<WssConnection>> Connect(
      const WssTarget& target, WssListener* listener) override;
};

// Parses `url`; INVALID_ARGUMENT URL_INVALID naming the problem for anything
// else (other schemes, user info, empty host, a host that is neither a name
// or IPv4 literal (letters, digits, '-', '.', '_') nor an IPv6 literal in
// brackets, bad port).
absl::StatusOr<WssUrl> ParseWssUrl(absl::string_view url);

// Maps the text lws 4.1 passes with LWS_CALLBACK_CLIENT_CONNECTION_ERROR
// (may be empty) to the UNAVAILABLE status WssListener::OnClosed reports:
// CONNECT_FAILED, TLS_VERIFY_FAILED, TLS_FAILED, PROXY_AUTH (lws's "proxy not
// h1": the HTTP proxy answered CONNECT with something other than 200, which
// with lws 4.1 we cannot tell apart from a 407), PROXY_FAILED or
// WS_UPGRADE_FAILED. The message always ends with lws's own text in
// parentheses. `via_http_proxy` words the sentences for the proxy case.
absl::Status StatusFromLwsConnectionError(absl::string_view lws_text,
                                          bool via_http_proxy);

}  // namespace cloudlink::transport

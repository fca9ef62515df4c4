#pragma once

// WssConnector and WssConnection on libwebsockets 4.1. The endpoint URL is
// parsed by ParseWssUrl (wss_url.h); lws's connection errors become statuses
// through StatusFromLwsConnectionError (lws_connection_error.h).
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
//   "user:password"), are refused with PROXY_UNSUPPORTED (LwsHttpProxyAddress,
//   lws_http_proxy.h).
// - Timeouts: tcp_timeout → connect_timeout_secs, proxy_timeout →
//   timeout_secs (lws's per-step network timeout: proxy reply, TLS, upgrade),
//   both rounded up to whole seconds; connect_budget is our own lws_sul timer.
// - DNS for direct and HTTP-proxy connections is lws's blocking getaddrinfo,
//   inside Connect()/Service() on the owner's thread.
//
// lws logging is process-wide: the first Connect() routes lws's error lines
// (only errors) to cloudlink's log as warnings, prefixed "LWS: "
// (RouteLwsLogging, lws_log.h). lws error lines name hosts and states, never
// credentials.

#include <memory>

#include "absl/status/statusor.h"
#include "server/transport/wss_connection.h"

namespace cloudlink::transport {

// Connects with libwebsockets; stateless, so one instance serves the whole
// process.
class LwsWssConnector final : public WssConnector {
 public:
  absl::StatusOr<std::unique_ptr<WssConnection>> Connect(
      const WssTarget& target, WssListener* listener) override;
};

}  // namespace cloudlink::transport

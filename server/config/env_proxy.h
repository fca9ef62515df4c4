#pragma once

// Turns the proxy setting "env" into a concrete proxy for one target URL,
// from the daemon's environment, the way libcurl reads it:
//
//   https:// and wss:// targets  https_proxy, HTTPS_PROXY, then http_proxy,
//                                HTTP_PROXY
//   http:// and ws:// targets    http_proxy, HTTP_PROXY
//
// The first variable that is set and non-empty wins (so lowercase wins over
// uppercase). Its value may be http://, socks5:// or socks5h:// (proxy.h); a
// value without a scheme ("proxy:3128") means http://, as in curl; https://
// is refused with PROXY_UNSUPPORTED. no_proxy (then NO_PROXY) can exempt the
// target:
//
//   *                  every host
//   example.com        example.com and any name ending in ".example.com"
//   .example.com       the same (leading "." or "*." is ignored)
//   example.com:8443   only that port
//   10.0.0.1, ::1, [::1]:443   literal addresses (no CIDR ranges)
//
// Entries are separated by commas or whitespace and compared without case.
//
// All functions are pure and thread-safe.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/environment.h"
#include "server/config/proxy.h"

namespace cloudlink::config {

// The proxy to use for `target_url` when the setting is "env": kDirect when
// no variable applies or no_proxy exempts the target. Errors: URL_INVALID
// for a target that is not http(s)/ws(s)://host..., and the PROXY_INVALID /
// PROXY_UNSUPPORTED of ParseProxy prefixed with the variable's name
// ("PROXY_INVALID: environment variable https_proxy: ...").
absl::StatusOr<ProxyConfig> ResolveEnvProxy(const Environment& env,
                                            absl::string_view target_url);

// `proxy` itself unless it is kEnv, then ResolveEnvProxy(env, target_url).
absl::StatusOr<ProxyConfig> ResolveProxy(const ProxyConfig& proxy,
                                         const Environment& env,
                                         absl::string_view target_url);

// Whether the `no_proxy` list exempts `host` (no brackets) on `port`.
bool NoProxyMatches(absl::string_view no_proxy, absl::string_view host,
                    int port);

}  // namespace cloudlink::config

#pragma once

// The proxy setting libwebsockets 4.1 takes (lws_context_creation_info::
// http_proxy_address) for a resolved proxy. lws 4.1 itself speaks only HTTP
// CONNECT; SOCKS5 goes through our relay (server/socks5), so for lws that is
// no proxy at all.

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "server/config/proxy.h"

namespace cloudlink::transport {

// lws 4.1 keeps "user:password" for proxy Basic auth in a 96-byte buffer.
inline constexpr size_t kMaxLwsProxyAuthBytes = 95;

// kHttp: "[user:password@]host:port" (lws sends CONNECT with Basic auth;
// user and password as they are, not percent-encoded). kDirect, kSocks5,
// kSocks5h: ":0", explicitly no HTTP proxy (a non-NULL address keeps lws
// from reading http_proxy from the environment; port 0 means none).
// Errors: INVALID_ARGUMENT URL_INVALID for kEnv (resolve it first);
// PROXY_UNSUPPORTED for an HTTP proxy at an IPv6 address, or "user:password"
// longer than kMaxLwsProxyAuthBytes. The result holds the password (wipe it
// once lws has copied it); errors never do. Pure.
absl::StatusOr<std::string> LwsHttpProxyAddress(
    const config::ProxyConfig& proxy);

}  // namespace cloudlink::transport

#pragma once

// Proxy settings as claim.conf, NETDATA_CLAIM_PROXY, the RPCs and http_proxy
// give them:
//
//   "" or "none"                          direct
//   "env"                                 from http_proxy/https_proxy (see
//                                         env_proxy.h)
//   http://[user:pass@]host[:port]        HTTP CONNECT, default port 8080
//   socks5://[user:pass@]host[:port]      SOCKS5, we resolve, default 1080
//   socks5h://[user:pass@]host[:port]     SOCKS5, the proxy resolves, 1080
//
// Scheme, "none" and "env" are case-insensitive; surrounding whitespace is
// ignored. IPv6 hosts are written in brackets ("http://[::1]:3128"). User and
// password are percent-decoded; the credentials end at the last '@', so a
// password with an unencoded '/', '#' or '@' still works. Only a trailing "/"
// may follow host and port.
//
// Errors are INVALID_ARGUMENT with reason PROXY_UNSUPPORTED (https://: TLS to
// the proxy) or PROXY_INVALID (everything else), naming the problem; they
// never contain the password (nor the user name).
//
// All functions are pure and thread-safe.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::config {

enum class ProxyKind { kDirect, kEnv, kHttp, kSocks5, kSocks5h };

// "direct", "env", "http", "socks5", "socks5h".
const char* ProxyKindName(ProxyKind kind);

struct ProxyConfig {
  ProxyKind kind = ProxyKind::kDirect;
  std::string host;      // without brackets; empty for kDirect and kEnv
  int port = 0;          // 1..65535; 0 for kDirect and kEnv
  std::string username;  // decoded
  std::string password;  // decoded; a secret

  // A value ParseProxy turns back into this config: "" for kDirect (which is
  // also what libcurl's CURLOPT_PROXY takes to mean "no proxy, ignore the
  // environment"), "env" for kEnv (not a URL: resolve it first), else
  // "scheme://[user:pass@]host:port" with user and password
  // percent-encoded and IPv6 hosts bracketed. Contains the password.
  std::string ToUrl() const;

  // For people (logs, GetState, errors): "none", "env", or
  // RedactUrlCredentials(ToUrl()) (server/common/redact.h): the password,
  // and whether there is one when a user name is set, shows as "****"
  // ("http://bob:****@proxy:3128").
  std::string Redacted() const;

  friend bool operator==(const ProxyConfig& a, const ProxyConfig& b) {
    return a.kind == b.kind && a.host == b.host && a.port == b.port &&
           a.username == b.username && a.password == b.password;
  }
  friend bool operator!=(const ProxyConfig& a, const ProxyConfig& b) {
    return !(a == b);
  }
};

inline constexpr int kDefaultHttpProxyPort = 8080;
inline constexpr int kDefaultSocksProxyPort = 1080;

// Parses a proxy setting (see the table above). A value without "://"
// other than ""/"none"/"env" is refused with PROXY_INVALID.
absl::StatusOr<ProxyConfig> ParseProxy(absl::string_view value);

}  // namespace cloudlink::config

#include "server/transport/lws_http_proxy.h"

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::transport {

absl::StatusOr<std::string> LwsHttpProxyAddress(
    const config::ProxyConfig& proxy) {
  switch (proxy.kind) {
    case config::ProxyKind::kEnv:
      return Error(
          absl::StatusCode::kInvalidArgument, reason::kUrlInvalid,
          "the proxy setting \"env\" must be resolved before connecting");
    case config::ProxyKind::kHttp: {
      if (proxy.host.find(':') != std::string::npos) {
        return Error(absl::StatusCode::kInvalidArgument,
                     reason::kProxyUnsupported,
                     "an HTTP proxy at an IPv6 address is not supported for "
                     "the cloud connection; use a host name");
      }
      std::string auth;
      if (!proxy.username.empty() || !proxy.password.empty()) {
        auth = absl::StrCat(proxy.username, ":", proxy.password);
        if (auth.size() > kMaxLwsProxyAuthBytes) {
          return Error(absl::StatusCode::kInvalidArgument,
                       reason::kProxyUnsupported,
                       "the HTTP proxy user name and password are too long "
                       "for the cloud connection (at most 95 bytes together)");
        }
        auth += "@";
      }
      return absl::StrCat(auth, proxy.host, ":", proxy.port);
    }
    case config::ProxyKind::kDirect:
    case config::ProxyKind::kSocks5:
    case config::ProxyKind::kSocks5h:
      break;
  }
  return std::string(":0");
}

}  // namespace cloudlink::transport

#include "server/http/transport_for.h"

#include "server/common/status_macros.h"
#include "server/config/env_proxy.h"
#include "server/config/proxy.h"

namespace cloudlink::http {

absl::StatusOr<TransportOptions> TransportFor(absl::string_view proxy_setting,
                                              const config::Environment& env,
                                              absl::string_view url,
                                              bool insecure,
                                              const std::string& ca_file) {
  ASSIGN_OR_RETURN(config::ProxyConfig proxy,
                   config::ParseProxy(proxy_setting));
  TransportOptions transport;
  ASSIGN_OR_RETURN(transport.proxy, config::ResolveProxy(proxy, env, url));
  transport.insecure = insecure;
  transport.ca_file = ca_file;
  return transport;
}

}  // namespace cloudlink::http

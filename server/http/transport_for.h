#pragma once

// From the node's settings to the TransportOptions of one request: the one
// place where a raw proxy setting ("", "none", "env", "http://...", as
// claim.conf, cloud.conf and the RPCs carry it) becomes the resolved proxy
// HttpClient::Send needs.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/environment.h"
#include "server/http/http_client.h"

namespace cloudlink::http {

// The transport for a request to `url`: `proxy_setting` parsed
// (config::ParseProxy) and, when it is "env", resolved for `url` from `env`
// (config::ResolveProxy); `insecure` and `ca_file` as given; default
// timeouts. Errors are those of ParseProxy and ResolveProxy
// (PROXY_INVALID, PROXY_UNSUPPORTED, URL_INVALID), never quoting a password.
// Pure and thread-safe.
absl::StatusOr<TransportOptions> TransportFor(absl::string_view proxy_setting,
                                              const config::Environment& env,
                                              absl::string_view url,
                                              bool insecure,
                                              const std::string& ca_file);

}  // namespace cloudlink::http

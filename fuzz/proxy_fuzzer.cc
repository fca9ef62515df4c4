// ParseProxy (server/config/proxy.h) over proxy settings from claim.conf,
// the environment and RPCs.
//
// Input: the setting. Checks: errors are PROXY_INVALID or PROXY_UNSUPPORTED
// (INVALID_ARGUMENT); a parsed proxy has a port in 1..65535 and a host
// (unless direct/env); ToUrl() parses back to an equal config; Redacted()
// does not depend on the password.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "server/common/error.h"
#include "server/config/proxy.h"

namespace cloudlink::fuzz {
namespace {

using config::ProxyConfig;
using config::ProxyKind;

void Run(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ProxyConfig> parsed = config::ParseProxy(value);
  if (!parsed.ok()) {
    const std::string reason = ReasonOf(parsed.status());
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument &&
                   (reason == "PROXY_INVALID" || reason == "PROXY_UNSUPPORTED"),
               parsed.status().ToString());
    return;
  }
  const ProxyConfig& proxy = *parsed;
  if (proxy.kind == ProxyKind::kDirect || proxy.kind == ProxyKind::kEnv) {
    FUZZ_CHECK(proxy.host.empty() && proxy.port == 0, "direct with a host");
  } else {
    FUZZ_CHECK(!proxy.host.empty(), "proxy without a host");
    FUZZ_CHECK(proxy.port >= 1 && proxy.port <= 65535, "port out of range");
  }
  if (proxy.kind != ProxyKind::kEnv) {
    absl::StatusOr<ProxyConfig> back = config::ParseProxy(proxy.ToUrl());
    FUZZ_CHECK(back.ok(),
               "ToUrl() does not parse: " + back.status().ToString());
    FUZZ_CHECK(*back == proxy, "ParseProxy(ToUrl()) differs");
  }
  // The redacted form does not depend on the password (so it cannot show
  // it): another non-empty password gives the same text.
  if (!proxy.password.empty()) {
    ProxyConfig other = proxy;
    other.password = proxy.password == "x" ? "y" : "x";
    FUZZ_CHECK(proxy.Redacted() == other.Redacted(),
               "Redacted() depends on the password: " +
                   absl::CHexEscape(proxy.Redacted()));
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

// The "env" proxy resolution (server/config/env_proxy.h): http_proxy /
// https_proxy values, no_proxy lists and target URLs.
//
// Input: byte 0 picks which variables are set; then '\n'-separated fields:
// https_proxy value, no_proxy value, target URL, host for NoProxyMatches;
// the port is two bytes before the fields. Checks: ResolveEnvProxy never
// returns kEnv; errors are URL_INVALID / PROXY_INVALID / PROXY_UNSUPPORTED;
// a no_proxy of "*" always means direct; NoProxyMatches is case-insensitive.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/common/error.h"
#include "server/config/env_proxy.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const uint8_t which = in.Byte();
  const int port = in.Uint16();
  const std::string proxy_value = in.Field();
  const std::string no_proxy = in.Field();
  const std::string target = in.Field();
  const std::string host = in.Field();

  config::Environment env;
  env[(which & 1) ? "https_proxy" : "HTTP_PROXY"] = proxy_value;
  if (which & 2) env[(which & 4) ? "no_proxy" : "NO_PROXY"] = no_proxy;
  if (which & 8) env["http_proxy"] = no_proxy;  // a second, lower priority

  absl::StatusOr<config::ProxyConfig> resolved =
      config::ResolveEnvProxy(env, target);
  if (resolved.ok()) {
    FUZZ_CHECK(resolved->kind != config::ProxyKind::kEnv, "resolved to env");
  } else {
    const std::string reason = ReasonOf(resolved.status());
    FUZZ_CHECK(reason == "URL_INVALID" || reason == "PROXY_INVALID" ||
                   reason == "PROXY_UNSUPPORTED",
               resolved.status().ToString());
  }

  const bool matches = config::NoProxyMatches(no_proxy, host, port);
  FUZZ_CHECK(
      matches == config::NoProxyMatches(absl::AsciiStrToUpper(no_proxy),
                                        absl::AsciiStrToLower(host), port),
      "no_proxy matching depends on case");
  FUZZ_CHECK(config::NoProxyMatches("*", host, port), "'*' did not match");

  if (resolved.ok() && (which & 16)) {
    config::Environment all = env;
    all["no_proxy"] = "*";
    absl::StatusOr<config::ProxyConfig> exempt =
        config::ResolveEnvProxy(all, target);
    FUZZ_CHECK(exempt.ok() && exempt->kind == config::ProxyKind::kDirect,
               "no_proxy=* did not exempt the target");
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

#include "server/config/env_proxy.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/error.h"
#include "server/config/error_context.h"

namespace cloudlink::config {
namespace {

struct Target {
  bool secure = false;
  std::string host;  // lowercase, no brackets, no trailing dot
  int port = 0;
};

absl::Status UrlInvalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kUrlInvalid,
               sentence);
}

absl::StatusOr<Target> ParseTarget(absl::string_view url) {
  Target target;
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == absl::string_view::npos
                           ? std::string()
                           : absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme == "https" || scheme == "wss") {
    target.secure = true;
    target.port = 443;
  } else if (scheme == "http" || scheme == "ws") {
    target.port = 80;
  } else {
    return UrlInvalid(
        "the address to connect to must start with https://, http://, wss:// "
        "or ws://");
  }
  absl::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
  absl::string_view host = authority;
  absl::string_view port_text;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return UrlInvalid("the IPv6 address in the URL has no closing ']'");
    }
    host = authority.substr(1, close - 1);
    absl::string_view rest = authority.substr(close + 1);
    if (absl::StartsWith(rest, ":")) port_text = rest.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
    }
  }
  if (!port_text.empty() && (!absl::SimpleAtoi(port_text, &target.port) ||
                             target.port < 1 || target.port > 65535)) {
    return UrlInvalid("the port in the URL is not a number from 1 to 65535");
  }
  if (absl::EndsWith(host, ".")) host.remove_suffix(1);
  if (host.empty()) return UrlInvalid("the URL has no host");
  target.host = absl::AsciiStrToLower(host);
  return target;
}

bool EntryMatches(absl::string_view entry, absl::string_view host, int port) {
  if (entry == "*") return true;
  absl::string_view entry_host = entry;
  int entry_port = 0;
  if (absl::StartsWith(entry, "[")) {
    size_t close = entry.find(']');
    if (close == absl::string_view::npos) return false;
    entry_host = entry.substr(1, close - 1);
    absl::string_view rest = entry.substr(close + 1);
    if (absl::StartsWith(rest, ":") &&
        !absl::SimpleAtoi(rest.substr(1), &entry_port)) {
      return false;
    }
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    size_t colon = entry.find(':');
    entry_host = entry.substr(0, colon);
    if (!absl::SimpleAtoi(entry.substr(colon + 1), &entry_port)) return false;
  }
  if (absl::StartsWith(entry_host, "*.")) entry_host.remove_prefix(1);
  while (absl::StartsWith(entry_host, ".")) entry_host.remove_prefix(1);
  if (absl::EndsWith(entry_host, ".")) entry_host.remove_suffix(1);
  if (entry_host.empty()) return false;
  if (entry_port != 0 && entry_port != port) return false;
  if (absl::EqualsIgnoreCase(host, entry_host)) return true;
  return host.size() > entry_host.size() &&
         host[host.size() - entry_host.size() - 1] == '.' &&
         absl::EndsWithIgnoreCase(host, entry_host);
}

}  // namespace

bool NoProxyMatches(absl::string_view no_proxy, absl::string_view host,
                    int port) {
  if (absl::EndsWith(host, ".")) host.remove_suffix(1);
  for (absl::string_view entry : absl::StrSplit(
           no_proxy, absl::ByAnyChar(", \t\r\n"), absl::SkipEmpty())) {
    if (EntryMatches(entry, host, port)) return true;
  }
  return false;
}

absl::StatusOr<ProxyConfig> ResolveEnvProxy(const Environment& env,
                                            absl::string_view target_url) {
  absl::StatusOr<Target> target = ParseTarget(target_url);
  if (!target.ok()) return target.status();

  std::vector<const char*> names;
  if (target->secure) names = {"https_proxy", "HTTPS_PROXY"};
  names.push_back("http_proxy");
  names.push_back("HTTP_PROXY");
  const char* chosen = nullptr;
  std::string value;
  for (const char* name : names) {
    value = std::string(absl::StripAsciiWhitespace(EnvValue(env, name)));
    if (!value.empty()) {
      chosen = name;
      break;
    }
  }
  if (chosen == nullptr) return ProxyConfig{};

  std::string no_proxy = EnvValue(env, "no_proxy");
  if (no_proxy.empty()) no_proxy = EnvValue(env, "NO_PROXY");
  if (NoProxyMatches(no_proxy, target->host, target->port)) {
    return ProxyConfig{};
  }

  if (value.find("://") == std::string::npos) value = "http://" + value;
  absl::StatusOr<ProxyConfig> proxy = ParseProxy(value);
  if (!proxy.ok()) {
    return AddErrorContext(proxy.status(),
                           absl::StrCat("environment variable ", chosen));
  }
  return proxy;
}

absl::StatusOr<ProxyConfig> ResolveProxy(const ProxyConfig& proxy,
                                         const Environment& env,
                                         absl::string_view target_url) {
  if (proxy.kind != ProxyKind::kEnv) return proxy;
  return ResolveEnvProxy(env, target_url);
}

}  // namespace cloudlink::config

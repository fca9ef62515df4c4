#include "server/config/proxy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"
#include "server/config/authority.h"

namespace cloudlink::config {
namespace {

bool HasControlCharacter(absl::string_view text) {
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

absl::Status ProxyInvalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kProxyInvalid,
               sentence);
}

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(absl::string_view text) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      unsigned char byte = static_cast<unsigned char>(c);
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0xF];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed escape.
bool PercentDecode(absl::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      *out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// Parses "host[:port]" or "[v6]:port" into `config`. Messages may quote host
// and port: they are not secrets.
absl::Status ParseHostPort(absl::string_view hostport, int default_port,
                           ProxyConfig* config) {
  Authority authority;
  switch (ParseAuthority(hostport, &authority)) {
    case AuthorityProblem::kNone:
      break;
    case AuthorityProblem::kEmptyHost:
      return ProxyInvalid(
          "the proxy host is empty; write it as http://proxy.example:3128");
    case AuthorityProblem::kUnclosedBracket:
      return ProxyInvalid(
          "the IPv6 address of the proxy has no closing ']'; write it as "
          "http://[::1]:3128");
    case AuthorityProblem::kTextAfterBracket:
      return ProxyInvalid(
          "unexpected text after the proxy's IPv6 address; write it as "
          "http://[::1]:3128");
    case AuthorityProblem::kBadIpv6:
      return ProxyInvalid(absl::StrCat("'",
                                       absl::CHexEscape(hostport.substr(0, 64)),
                                       "' is not an IPv6 address in brackets"));
    case AuthorityProblem::kUnbracketedIpv6:
      return ProxyInvalid(
          "an IPv6 proxy address must be in brackets, like "
          "http://[::1]:3128");
    case AuthorityProblem::kBadHostCharacter:
      return ProxyInvalid(absl::StrCat(
          "the proxy host '",
          absl::CHexEscape(
              hostport.substr(0, hostport.find(':')).substr(0, 64)),
          "' has characters other than letters, digits, '-', '.' and '_'"));
    case AuthorityProblem::kBadPort:
      return ProxyInvalid(absl::StrCat(
          "the proxy port '",
          absl::CHexEscape(
              hostport.substr(hostport.rfind(':') + 1).substr(0, 16)),
          "' is not a number from 1 to 65535"));
  }
  config->host = std::move(authority.host);
  config->port = authority.port.value_or(default_port);
  return absl::OkStatus();
}

}  // namespace

const char* ProxyKindName(ProxyKind kind) {
  switch (kind) {
    case ProxyKind::kDirect:
      return "direct";
    case ProxyKind::kEnv:
      return "env";
    case ProxyKind::kHttp:
      return "http";
    case ProxyKind::kSocks5:
      return "socks5";
    case ProxyKind::kSocks5h:
      return "socks5h";
  }
  return "direct";
}

std::string ProxyConfig::ToUrl() const {
  if (kind == ProxyKind::kDirect) return "";
  if (kind == ProxyKind::kEnv) return "env";
  std::string url = absl::StrCat(ProxyKindName(kind), "://");
  if (!username.empty() || !password.empty()) {
    absl::StrAppend(&url, PercentEncode(username));
    if (!password.empty()) absl::StrAppend(&url, ":", PercentEncode(password));
    url += '@';
  }
  if (host.find(':') != std::string::npos) {
    absl::StrAppend(&url, "[", host, "]");
  } else {
    url += host;
  }
  absl::StrAppend(&url, ":", port);
  return url;
}

std::string ProxyConfig::Redacted() const {
  if (kind == ProxyKind::kDirect) return "none";
  if (kind == ProxyKind::kEnv) return "env";
  // ToUrl() percent-encodes the user info, so its last '@' is the real one.
  return RedactUrlCredentials(ToUrl());
}

absl::StatusOr<ProxyConfig> ParseProxy(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  ProxyConfig config;
  if (HasControlCharacter(value)) {
    return ProxyInvalid(
        "the proxy setting has a control character (a byte below 0x20 or "
        "0x7f)");
  }
  if (value.empty() || absl::EqualsIgnoreCase(value, "none")) return config;
  if (absl::EqualsIgnoreCase(value, "env")) {
    config.kind = ProxyKind::kEnv;
    return config;
  }
  size_t scheme_end = value.find("://");
  if (scheme_end == absl::string_view::npos) {
    return ProxyInvalid(
        "a proxy must be 'none', 'env' or a URL like http://proxy:3128, "
        "socks5://proxy:1080 or socks5h://proxy:1080");
  }
  std::string scheme = absl::AsciiStrToLower(value.substr(0, scheme_end));
  int default_port = kDefaultSocksProxyPort;
  if (scheme == "http") {
    config.kind = ProxyKind::kHttp;
    default_port = kDefaultHttpProxyPort;
  } else if (scheme == "socks5") {
    config.kind = ProxyKind::kSocks5;
  } else if (scheme == "socks5h") {
    config.kind = ProxyKind::kSocks5h;
  } else if (scheme == "https") {
    return Error(absl::StatusCode::kInvalidArgument, reason::kProxyUnsupported,
                 "TLS to the proxy is not supported; use http:// — the link "
                 "to the cloud stays end-to-end encrypted through the tunnel");
  } else {
    bool printable = scheme.size() <= 16;
    for (char c : scheme) {
      printable =
          printable && absl::ascii_isalnum(static_cast<unsigned char>(c));
    }
    return ProxyInvalid(absl::StrCat(
        "unknown proxy scheme",
        printable ? absl::StrCat(" '", scheme, "'") : std::string(),
        "; use http://, socks5:// or socks5h://"));
  }

  absl::string_view rest = value.substr(scheme_end + 3);
  size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    absl::string_view user = userinfo.substr(0, colon);
    absl::string_view pass = colon == absl::string_view::npos
                                 ? absl::string_view()
                                 : userinfo.substr(colon + 1);
    if (!PercentDecode(user, &config.username) ||
        !PercentDecode(pass, &config.password)) {
      return ProxyInvalid(
          "the proxy user name or password has a malformed %-escape; write "
          "'%' as %25");
    }
    // A control character in a credential is refused: it would end up in
    // a header line or make a client misread the proxy URL.
    if (HasControlCharacter(config.username) ||
        HasControlCharacter(config.password)) {
      return ProxyInvalid(
          "the proxy user name or password has a control character (a byte "
          "below 0x20 or 0x7f, also %-escaped)");
    }
    if (config.username.empty() && !config.password.empty()) {
      return ProxyInvalid(
          "the proxy has a password but no user name; write "
          "scheme://user:password@host:port");
    }
  }
  size_t path = rest.find_first_of("/?#");
  absl::string_view hostport = rest.substr(0, path);
  if (path != absl::string_view::npos && rest.substr(path) != "/") {
    return ProxyInvalid(
        "a proxy URL ends after host and port; remove the path, query or "
        "fragment");
  }
  RETURN_IF_ERROR(ParseHostPort(hostport, default_port, &config));
  return config;
}

}  // namespace cloudlink::config

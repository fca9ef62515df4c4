#include "server/config/authority.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace cloudlink::config {
namespace {

bool IsHostNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

// "" or the digits of a port from 1 to 65535; false otherwise.
bool ParsePort(absl::string_view text, int* port) {
  if (text.empty() || text.size() > 5) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return false;
  }
  return absl::SimpleAtoi(text, port) && *port >= 1 && *port <= 65535;
}

}  // namespace

AuthorityProblem ParseAuthority(absl::string_view text, Authority* out) {
  absl::string_view host;
  absl::string_view rest;  // ":port" or ""
  out->ipv6_literal = absl::StartsWith(text, "[");
  if (out->ipv6_literal) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return AuthorityProblem::kUnclosedBracket;
    }
    host = text.substr(1, close - 1);
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return AuthorityProblem::kTextAfterBracket;
    }
    in6_addr address;
    if (host.empty() || host.find('\0') != absl::string_view::npos ||
        inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return AuthorityProblem::kBadIpv6;
    }
  } else {
    const size_t colon = text.find(':');
    if (colon != absl::string_view::npos &&
        text.find(':', colon + 1) != absl::string_view::npos) {
      return AuthorityProblem::kUnbracketedIpv6;
    }
    host = text.substr(0, colon);
    if (colon != absl::string_view::npos) rest = text.substr(colon);
    if (host.empty()) return AuthorityProblem::kEmptyHost;
    if (!std::all_of(host.begin(), host.end(), IsHostNameChar)) {
      return AuthorityProblem::kBadHostCharacter;
    }
  }
  out->host = std::string(host);
  out->port.reset();
  if (!rest.empty()) {
    int port = 0;
    if (!ParsePort(rest.substr(1), &port)) return AuthorityProblem::kBadPort;
    out->port = port;
  }
  return AuthorityProblem::kNone;
}

absl::string_view ProblemHint(AuthorityProblem problem) {
  switch (problem) {
    case AuthorityProblem::kNone:
      return "";
    case AuthorityProblem::kEmptyHost:
      return "the host is empty";
    case AuthorityProblem::kUnclosedBracket:
      return "the IPv6 address has no closing ']'";
    case AuthorityProblem::kTextAfterBracket:
      return "only ':port' may follow the IPv6 address's ']'";
    case AuthorityProblem::kBadIpv6:
      return "the text in brackets is not an IPv6 address";
    case AuthorityProblem::kUnbracketedIpv6:
      return "an IPv6 address must be in brackets, like [2001:db8::1]:443";
    case AuthorityProblem::kBadHostCharacter:
      return "the host has characters other than letters, digits, '-', '.' "
             "and '_'";
    case AuthorityProblem::kBadPort:
      return "the port is not a number from 1 to 65535";
  }
  return "";
}

}  // namespace cloudlink::config

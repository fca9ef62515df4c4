#pragma once

// The authority part of a URL or proxy setting: "host", "host:port",
// "[IPv6]" or "[IPv6]:port" (no scheme, user info or path).
//
// One set of rules for every place cloudlink takes one (the cloud URL, the
// proxy, the MQTT endpoint): the host is a name or IPv4 literal made of
// letters, digits, '-', '.' and '_', or an IPv6 literal in brackets; the
// port, when given, is 1 to 65535 in at most 5 digits. So no stray byte (NUL,
// space, '@', '%', '[') reaches DNS, SNI or a certificate check, where it
// could name a host other than the one logged.
//
// A problem comes back as a code, not a sentence: each caller words its own
// error for its own field (see ProblemHint).

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace cloudlink::config {

struct Authority {
  std::string host;           // without brackets
  bool ipv6_literal = false;  // given in brackets
  absl::optional<int> port;   // when given
};

enum class AuthorityProblem {
  kNone,
  kEmptyHost,         // "", ":80"
  kUnclosedBracket,   // "[::1"
  kTextAfterBracket,  // "[::1]x"
  kBadIpv6,           // "[example.com]"
  kUnbracketedIpv6,   // "::1", "2001:db8::1:443"
  kBadHostCharacter,  // "a b", "a%2f", NUL
  kBadPort,           // "h:", "h:0", "h:65536", "h:+1", "h:080000"
};

// Parses `text`. Returns kNone and fills `out`, or the first problem found
// (then `out` is unspecified).
AuthorityProblem ParseAuthority(absl::string_view text, Authority* out);

// A short phrase for `problem` that callers may append to their sentence,
// e.g. "the port is not a number from 1 to 65535". Empty for kNone.
absl::string_view ProblemHint(AuthorityProblem problem);

}  // namespace cloudlink::config

#pragma once

// The MQTT endpoint URL the cloud hands out: "wss://host[:port][/path]".

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::transport {

// The parts of a "wss://host[:port][/path]" URL (scheme case-insensitive;
// IPv6 hosts in brackets; port default 443; path default "/", query kept).
struct WssUrl {
  std::string host;  // without brackets
  int port = 443;
  std::string path;  // starts with '/'
};

// Parses `url`; INVALID_ARGUMENT URL_INVALID naming the problem for anything
// else (other schemes, user info, empty host, a host that is neither a name
// or IPv4 literal (letters, digits, '-', '.', '_') nor an IPv6 literal in
// brackets, bad port).
absl::StatusOr<WssUrl> ParseWssUrl(absl::string_view url);

}  // namespace cloudlink::transport

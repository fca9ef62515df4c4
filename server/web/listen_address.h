#pragma once

// The --http-listen value: ADDRESS:PORT, where ADDRESS is an IPv4 address, a
// bracketed IPv6 address or "localhost". Loopback unless asked otherwise: a
// non-loopback address is refused unless `allow_remote` (--http-allow-remote)
// is set, because the page can claim the node.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::web {

// The default --http-listen. 19999 is the Netdata Agent's port, so a node
// running both keeps the Agent's; ours is next to it.
inline constexpr char kDefaultHttpListen[] = "127.0.0.1:19990";

struct ListenAddress {
  std::string host;  // as bind() takes it: "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;      // 0: any free port (tests)
  bool loopback = true;
};

// Parses `text`. INVALID_ARGUMENT (reason URL_INVALID is not used here: the
// caller reports a flag error) with a sentence for a malformed value, or a
// non-loopback address without `allow_remote`.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text,
                                                 bool allow_remote);

}  // namespace cloudlink::web

#pragma once

// The remote listener's TCP side: binding "HOST:PORT" on every address it
// resolves to, and naming the peers those sockets accept as gRPC names TCP
// peers.

#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloudlink::api {

struct TcpListenSockets {
  std::vector<int> fds;  // listening, non-blocking, close-on-exec; caller's
  int port = 0;          // the port bound (the same on every address)
};

// Resolves `address` ("HOST:PORT", "[V6]:PORT", ":PORT" for every local
// address; port 0 for any free one), binds each address found with
// SO_REUSEADDR (IPv6 sockets V6ONLY) and listens with `backlog`. With port
// 0, every address gets the port the first one was given. Addresses that
// cannot be bound are skipped. Error (UNAVAILABLE, whose message is only
// the cause, e.g. "no port" or strerror of the last failure) when no
// address is bound.
absl::StatusOr<TcpListenSockets> ListenTcp(const std::string& address,
                                           int backlog);

// "ipv4:1.2.3.4:5" / "ipv6:[::1]:5" (the form gRPC gives TCP peers) of
// `addr`, and its source address alone ("1.2.3.4", "::1") in `source`.
std::string PeerAddress(const sockaddr_storage& addr, std::string* source);

}  // namespace cloudlink::api

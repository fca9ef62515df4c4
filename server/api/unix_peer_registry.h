#pragma once

// The callers of the connections the API hands to gRPC as file descriptors,
// found again from a call's peer name. gRPC names a connection it was handed
// as a descriptor "fd:N" (ServerContext::peer()), so the registry is keyed by
// the descriptor number N. Two kinds of connection are handed over this way:
// the Unix socket's (the caller is the peer process, UnixCredentials) and the
// remote listener's, whose TLS is ended in this process (the caller is the
// verified client certificate, TlsPeer; see tls_listener.h).
//
// Descriptor numbers are reused once gRPC closes a connection. Two rules keep
// a call from ever getting another connection's credentials:
//  - an entry remembers which socket it describes (device and inode, unique
//    while the socket is open); Lookup answers only while N still refers to
//    that socket, so a call arriving after its connection ended is refused
//    rather than matched to whatever now holds N;
//  - the listeners hand gRPC descriptor numbers in rotation
//    (MoveToRotatingNumber), so a number returns only after the whole range
//    has been used, long after any call of the old connection has started.

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/api/peer_credentials.h"
#include "server/common/mutex.h"

namespace cloudlink::api {

// A remote listener client, as its verified certificate names it.
struct TlsPeer {
  std::string subject;          // RFC 2253, as OpenSSL prints it ("CN=a,O=b")
  std::string common_name;      // "" when the subject has none
  std::string address;          // "ipv4:10.0.0.5:40112", "ipv6:[::1]:40112"
  std::string certificate_pem;  // the client's (leaf) certificate
};

class UnixPeerRegistry {
 public:
  // "fd:N", the peer name gRPC gives calls on a connection it got as `fd`.
  static std::string PeerName(int fd);

  // Records the caller of the open socket `fd`, replacing what an earlier
  // (ended) connection with the same number left, and drops entries of ended
  // connections. Call before gRPC gets the descriptor. INTERNAL when `fd` is
  // not open. Thread-safe, as is everything here.
  absl::Status Register(int fd, UnixCredentials credentials);
  absl::Status Register(int fd, TlsPeer peer);

  // The credentials of the Unix socket connection a call with peer name
  // `peer` came on. NOT_FOUND when `peer` is not "fd:N", nothing (or a TLS
  // peer) was registered for N, or N no longer refers to the registered
  // socket (the connection ended).
  absl::StatusOr<UnixCredentials> Lookup(absl::string_view peer) const;
  // The same for a remote listener connection.
  absl::StatusOr<TlsPeer> LookupTls(absl::string_view peer) const;
  // True when `peer` is "fd:N" and N was registered as a TLS peer (live or
  // not): the call came through the remote listener.
  bool IsTls(absl::string_view peer) const;

  // Open Unix socket connections of `uid`, and of every uid but root
  // (ended ones are not counted).
  int CountUnix(uid_t uid) const;
  int CountUnixNotRoot() const;
  // Open connections of both kinds (registered, and their descriptor still
  // refers to the registered socket).
  int CountOpen() const;

  // Moves `fd` to the next free descriptor number of the rotation (from 64
  // up to 64 + 4096 or the descriptor limit, then again from the start,
  // skipping numbers in use) and closes the old number; returns the new
  // number, or `fd` when it cannot be moved.
  int MoveToRotatingNumber(int fd);

  // Entries held (live or not yet swept). For tests.
  size_t size() const;

 private:
  struct SocketId {
    dev_t device = 0;
    ino_t inode = 0;
    bool operator==(const SocketId& other) const {
      return device == other.device && inode == other.inode;
    }
  };
  struct Entry {
    SocketId socket;
    absl::optional<UnixCredentials> credentials;  // else `tls`
    TlsPeer tls;
  };
  // The socket `fd` refers to now; false when it is not open.
  static bool CurrentSocket(int fd, SocketId* id);
  absl::Status Add(int fd, Entry entry);
  // The live entry for `peer`; NOT_FOUND as Lookup describes.
  absl::StatusOr<Entry> Find(absl::string_view peer) const;

  mutable Mutex mu_;
  std::map<int, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int next_number_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cloudlink::api

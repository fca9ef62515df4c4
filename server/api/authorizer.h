#pragma once

// Who may make which CloudLink call (docs/operating.md, "Authorization").
// The service asks once at the start of each call; the policy lives here
// alone.
//
// Calls are read calls (GetState, WatchState) or mutating calls (everything
// else, including methods added later: an unknown method is mutating).
//
// On the Unix socket the caller is the peer process (SO_PEERCRED, recorded
// when the connection was accepted, see unix_peer_registry.h):
//   mutating: uid 0, or a member of the admin group (--admin-group, default
//             "cloudlink"; when that group does not exist, only root);
//   read:     uid 0, a member of the socket's group (the admin group when it
//             exists, else the daemon's group), or of the admin group.
// Membership is the peer's gid or a group of its uid's account.
//
// On the remote listener (mutual TLS) the caller is the verified client
// certificate: its subject must be listed in the allowed-subjects file,
// `admin` for every call, `read` for read calls (allowed_subjects.h).
//
// A refusal is PERMISSION_DENIED "CALLER_NOT_AUTHORIZED: ..." naming the
// caller and what it lacks. Each allowed mutating call is logged on one INFO
// line: "API: Claim by uid 0 pid 123" or "API: Claim by CN=ops (tls
// ipv4:10.0.0.5:40112)".

#include <grpcpp/server_context.h>
#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/api/allowed_subjects.h"
#include "server/api/peer_credentials.h"
#include "server/api/unix_peer_registry.h"

namespace grpc {
class ServerContext;
}

namespace cloudlink::api {

enum class Access { kRead, kAdmin };

// The access `method` (a CloudLink method name, "GetState") needs.
Access RequiredAccess(absl::string_view method);

// The Unix socket side of the policy.
struct UnixPolicy {
  std::string admin_group = "cloudlink";  // as configured
  absl::optional<gid_t> admin_gid;        // none: the group does not exist
  gid_t socket_gid = 0;                   // the group the socket belongs to

  // Looks `admin_group` up. The socket's group is the admin group when it
  // exists, else this process's effective gid. Logs one warning when the
  // group does not exist (only root may then make mutating calls).
  static UnixPolicy Resolve(const std::string& admin_group);
};

class Authorizer {
 public:
  // `peers` (the Unix socket's connections) must outlive the authorizer;
  // nullptr when there is no Unix socket (then every "fd:" caller is
  // unknown).
  Authorizer(UnixPolicy unix_policy, AllowedSubjects subjects,
             const UnixPeerRegistry* peers);

  // The policy for a Unix socket caller: OK or CALLER_NOT_AUTHORIZED.
  absl::Status CheckUnix(const UnixCredentials& caller,
                         absl::string_view method) const;
  // The policy for a verified TLS client with certificate subject
  // `subject_dn` (RFC 2253) and common name `common_name`.
  absl::Status CheckTls(absl::string_view subject_dn,
                        absl::string_view common_name,
                        absl::string_view method) const;

  // Identifies the caller of the call `context` belongs to (a Unix socket
  // connection by its peer name, or a TLS client by its certificate),
  // applies the policy for `method` and logs an allowed mutating call.
  // PERMISSION_DENIED CALLER_UNKNOWN when the caller cannot be identified
  // (its connection already ended, or an unexpected transport).
  absl::Status Authorize(const grpc::ServerContextBase& context,
                         absl::string_view method) const;

  const UnixPolicy& unix_policy() const { return unix_policy_; }

 private:
  const UnixPolicy unix_policy_;
  const AllowedSubjects subjects_;
  const UnixPeerRegistry* const peers_;
};

}  // namespace cloudlink::api

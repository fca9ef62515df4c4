#pragma once

// Who may make which CloudLink call (docs/operating.md, "Authorization").
// The service asks once at the start of each call; the policy lives here
// alone.
//
// Calls are read calls (GetState, WatchState, and the methods of server
// reflection and grpc.health.v1, named "grpc.health.v1.Health/Check") or
// mutating calls (everything else, including methods added later: an
// unknown method is mutating).
//
// On the Unix socket the caller is the peer process (SO_PEERCRED, recorded
// when the connection was accepted, see unix_peer_registry.h):
//   mutating: uid 0, or a member of the admin group (--admin-group, default
//             "cloudlink"; when that group does not exist, only root);
//   read:     uid 0, a member of the socket's group (the admin group when it
//             exists, else the daemon's group), or of the admin group.
//   publish:  a member of the publisher group (--publisher-group, none by
//             default) may call Publish and the read calls, nothing else
//             (the socket gives that group access with an ACL entry).
// Membership is the peer's gid or a group of its uid's account.
//
// On the remote listener (mutual TLS, ended in this process, see
// tls_listener.h) the caller is the verified client certificate recorded
// for its connection: its subject, read from the certificate's structure,
// must be listed in the allowed-subjects file, `admin` for every call,
// `read` for read calls (allowed_subjects.h).
//
// A refusal is PERMISSION_DENIED "CALLER_NOT_AUTHORIZED: ..." naming the
// caller and what it lacks. Each allowed mutating call is logged on one INFO
// line: "API: Claim by uid 0 pid 123" or "API: Claim by CN=ops (tls
// ipv4:10.0.0.5:40112)".

#include <grpcpp/server_context.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/api/allowed_subjects.h"
#include "server/api/peer_credentials.h"
#include "server/api/unix_peer_registry.h"
#include "server/common/mutex.h"

namespace grpc {
class ServerContextBase;
}

namespace cloudlink::api {

enum class Access { kRead, kAdmin };

// The access `method` (a CloudLink method name, "GetState", or another
// service's "package.Service/Method") needs.
Access RequiredAccess(absl::string_view method);

// The Unix socket side of the policy.
struct UnixPolicy {
  std::string admin_group = "cloudlink";  // as configured
  absl::optional<gid_t> admin_gid;        // none: the group does not exist
  gid_t socket_gid = 0;                   // the group the socket belongs to
  std::string publisher_group;            // as configured; "" for none
  absl::optional<gid_t> publisher_gid;    // none: no publisher role

  // Looks the groups up. The socket's group is the admin group when it
  // exists, else this process's effective gid. Logs one warning when the
  // admin group does not exist (only root may then make mutating calls),
  // and one when a publisher group is given but does not exist.
  static UnixPolicy Resolve(const std::string& admin_group,
                            const std::string& publisher_group = "");
};

class Authorizer {
 public:
  // `peers` (the connections of the Unix socket and the remote listener)
  // must outlive the authorizer; nullptr when there is none (then every
  // caller is unknown).
  Authorizer(UnixPolicy unix_policy, AllowedSubjects subjects,
             const UnixPeerRegistry* peers);

  // The policy for a Unix socket caller: OK or CALLER_NOT_AUTHORIZED.
  absl::Status CheckUnix(const UnixCredentials& caller,
                         absl::string_view method) const;
  // The policy for a verified TLS client with certificate subject `subject`
  // (compared as a structure, see allowed_subjects.h); refusals name it
  // escaped.
  absl::Status CheckTls(const DistinguishedName& subject,
                        absl::string_view method) const;

  // Identifies the caller of the call `context` belongs to (a Unix socket
  // connection or a remote listener's TLS client, by its peer name in
  // `peers`),
  // applies the policy for `method` and logs an allowed mutating call.
  // PERMISSION_DENIED CALLER_UNKNOWN when the caller cannot be identified
  // (its connection already ended, or an unexpected transport).
  absl::Status Authorize(const grpc::ServerContextBase& context,
                         absl::string_view method) const;

  // Who made the call `context` belongs to, for the stream caps
  // (stream_limits.h): "uid 1000" or "tls CN=...,O=...", and whether it is
  // root (uid 0 on the Unix socket). CALLER_UNKNOWN as Authorize.
  struct Caller {
    std::string name;
    bool root = false;
  };
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const;

  const UnixPolicy& unix_policy() const { return unix_policy_; }

  // Replaces the allowed subjects (a reload of --tls-allowed-subjects);
  // calls authorized from now on use them. Thread-safe.
  void SetSubjects(AllowedSubjects subjects);

 private:
  const UnixPolicy unix_policy_;
  mutable Mutex mu_;
  std::shared_ptr<const AllowedSubjects> subjects_ ABSL_GUARDED_BY(mu_);
  const UnixPeerRegistry* const peers_;
};

}  // namespace cloudlink::api

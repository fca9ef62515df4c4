#include "server/api/authorizer.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::api {
namespace {

absl::Status NotAuthorized(absl::string_view sentence) {
  return Error(absl::StatusCode::kPermissionDenied,
               reason::kCallerNotAuthorized, sentence);
}

std::string FirstProperty(const grpc::AuthContext& auth, const char* name) {
  std::vector<grpc::string_ref> values = auth.FindPropertyValues(name);
  if (values.empty()) return "";
  return std::string(values[0].data(), values[0].size());
}

}  // namespace

Access RequiredAccess(absl::string_view method) {
  return method == "GetState" || method == "WatchState" ? Access::kRead
                                                        : Access::kAdmin;
}

UnixPolicy UnixPolicy::Resolve(const std::string& admin_group) {
  UnixPolicy policy;
  policy.admin_group = admin_group;
  absl::StatusOr<gid_t> gid = GroupId(admin_group);
  if (gid.ok()) {
    policy.admin_gid = *gid;
    policy.socket_gid = *gid;
  } else {
    policy.socket_gid = getegid();
    LogWarning(absl::StrCat(
        "API: group ", admin_group,
        " (--admin-group) does not exist: only root may claim, reclaim, "
        "reload or publish; the socket stays in group ",
        GroupName(policy.socket_gid), ". Create the group to delegate."));
  }
  return policy;
}

Authorizer::Authorizer(UnixPolicy unix_policy, AllowedSubjects subjects,
                       const UnixPeerRegistry* peers)
    : unix_policy_(std::move(unix_policy)),
      subjects_(std::move(subjects)),
      peers_(peers) {}

absl::Status Authorizer::CheckUnix(const UnixCredentials& caller,
                                   absl::string_view method) const {
  if (caller.uid == 0) return absl::OkStatus();
  const bool admin = unix_policy_.admin_gid.has_value() &&
                     caller.InGroup(*unix_policy_.admin_gid);
  if (admin) return absl::OkStatus();
  const std::string& group = unix_policy_.admin_group;
  if (RequiredAccess(method) == Access::kAdmin) {
    if (!unix_policy_.admin_gid.has_value()) {
      return NotAuthorized(
          absl::StrCat("uid ", caller.uid, " is not root, and group ", group,
                       " does not exist; ", method,
                       " needs root (create the group to delegate it)"));
    }
    return NotAuthorized(absl::StrCat("uid ", caller.uid,
                                      " is not root and not in group ", group,
                                      "; ", method, " needs one of them"));
  }
  if (caller.InGroup(unix_policy_.socket_gid)) return absl::OkStatus();
  const std::string socket_group = GroupName(unix_policy_.socket_gid);
  return NotAuthorized(absl::StrCat(
      "uid ", caller.uid, " is not root and not in group ", socket_group,
      " (the socket's group)",
      socket_group == group ? "" : absl::StrCat(" nor in group ", group), "; ",
      method, " needs one of them"));
}

absl::Status Authorizer::CheckTls(absl::string_view subject_dn,
                                  absl::string_view common_name,
                                  absl::string_view method) const {
  const SubjectRole role = subjects_.RoleOf(subject_dn, common_name);
  if (role == SubjectRole::kAdmin) return absl::OkStatus();
  if (role == SubjectRole::kRead) {
    if (RequiredAccess(method) == Access::kRead) return absl::OkStatus();
    return NotAuthorized(absl::StrCat(
        "client certificate \"", subject_dn, "\" is allowed read-only access; ",
        method,
        " needs an admin entry in the allowed subjects (--tls-allowed-"
        "subjects)"));
  }
  return NotAuthorized(absl::StrCat(
      "client certificate \"", subject_dn,
      "\" is not in the allowed subjects (--tls-allowed-subjects); ", method,
      " needs ", RequiredAccess(method) == Access::kAdmin ? "an admin" : "an",
      " entry"));
}

absl::Status Authorizer::Authorize(const grpc::ServerContextBase& context,
                                   absl::string_view method) const {
  const std::string peer = context.peer();
  const bool mutating = RequiredAccess(method) == Access::kAdmin;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr &&
      FirstProperty(*auth, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME) ==
          GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
    const std::string subject =
        FirstProperty(*auth, GRPC_X509_SUBJECT_PROPERTY_NAME);
    const std::string common_name =
        FirstProperty(*auth, GRPC_X509_CN_PROPERTY_NAME);
    if (!auth->IsPeerAuthenticated() || subject.empty()) {
      return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
                   "the TLS client presented no verified certificate");
    }
    absl::Status allowed = CheckTls(subject, common_name, method);
    if (!allowed.ok()) {
      LogWarning(absl::StrCat("API: refused ", method, " from ", subject,
                              " (tls ", peer, ")"));
    } else if (mutating) {
      LogInfo(
          absl::StrCat("API: ", method, " by ", subject, " (tls ", peer, ")"));
    }
    return allowed;
  }
  if (peers_ != nullptr && absl::StartsWith(peer, "fd:")) {
    absl::StatusOr<UnixCredentials> caller = peers_->Lookup(peer);
    if (!caller.ok()) {
      return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
                   absl::StrCat("cannot identify the caller on ", peer, " (",
                                caller.status().message(), ")"));
    }
    absl::Status allowed = CheckUnix(*caller, method);
    if (!allowed.ok()) {
      LogWarning(absl::StrCat("API: refused ", method, " from uid ",
                              caller->uid, " pid ", caller->pid));
    } else if (mutating) {
      LogInfo(absl::StrCat("API: ", method, " by uid ", caller->uid, " pid ",
                           caller->pid));
    }
    return allowed;
  }
  return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
               absl::StrCat("calls from ", peer, " are not accepted"));
}

}  // namespace cloudlink::api

#include "server/api/authorizer.h"

#include <grpcpp/server_context.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::api {
namespace {

constexpr char kPublishMethod[] = "Publish";

absl::Status NotAuthorized(absl::string_view sentence) {
  return Error(absl::StatusCode::kPermissionDenied,
               reason::kCallerNotAuthorized, sentence);
}

}  // namespace

Access RequiredAccess(absl::string_view method) {
  // Server reflection and health tell no more than GetState does.
  const bool read = method == "GetState" || method == "WatchState" ||
                    absl::StartsWith(method, "grpc.reflection.") ||
                    absl::StartsWith(method, "grpc.health.");
  return read ? Access::kRead : Access::kAdmin;
}

UnixPolicy UnixPolicy::Resolve(const std::string& admin_group,
                               const std::string& publisher_group) {
  UnixPolicy policy;
  policy.admin_group = admin_group;
  policy.publisher_group = publisher_group;
  if (!publisher_group.empty()) {
    absl::StatusOr<gid_t> publisher = GroupId(publisher_group);
    if (publisher.ok()) {
      policy.publisher_gid = *publisher;
    } else {
      LogWarning(absl::StrCat("API: group ", publisher_group,
                              " (--publisher-group) does not exist: nobody "
                              "gets the publisher role on the socket"));
    }
  }
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
      subjects_(std::make_shared<const AllowedSubjects>(std::move(subjects))),
      peers_(peers) {}

void Authorizer::SetSubjects(AllowedSubjects subjects) {
  auto next = std::make_shared<const AllowedSubjects>(std::move(subjects));
  MutexLock lock(&mu_);
  subjects_ = std::move(next);
}

absl::Status Authorizer::CheckUnix(const UnixCredentials& caller,
                                   absl::string_view method) const {
  if (caller.uid == 0) return absl::OkStatus();
  const bool admin = unix_policy_.admin_gid.has_value() &&
                     caller.InGroup(*unix_policy_.admin_gid);
  if (admin) return absl::OkStatus();
  const std::string& group = unix_policy_.admin_group;
  const bool publisher = unix_policy_.publisher_gid.has_value() &&
                         caller.InGroup(*unix_policy_.publisher_gid);
  if (publisher &&
      (RequiredAccess(method) == Access::kRead || method == kPublishMethod)) {
    return absl::OkStatus();
  }
  if (publisher) {
    return NotAuthorized(absl::StrCat(
        "uid ", caller.uid, " is in group ", unix_policy_.publisher_group,
        " (--publisher-group), which may publish and read only; ", method,
        " needs root or group ", group));
  }
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

absl::Status Authorizer::CheckTls(const DistinguishedName& subject,
                                  absl::string_view method) const {
  std::shared_ptr<const AllowedSubjects> subjects;
  {
    MutexLock lock(&mu_);
    subjects = subjects_;
  }
  const SubjectRole role = subjects->RoleOf(subject);
  if (role == SubjectRole::kAdmin) return absl::OkStatus();
  const std::string shown = subject.ToString();
  if (role == SubjectRole::kPublish) {
    if (RequiredAccess(method) == Access::kRead || method == kPublishMethod) {
      return absl::OkStatus();
    }
    return NotAuthorized(absl::StrCat(
        "client certificate \"", shown,
        "\" is allowed to publish and read only; ", method,
        " needs an admin entry in the allowed subjects (--tls-allowed-"
        "subjects)"));
  }
  if (role == SubjectRole::kRead) {
    if (RequiredAccess(method) == Access::kRead) return absl::OkStatus();
    return NotAuthorized(absl::StrCat(
        "client certificate \"", shown, "\" is allowed read-only access; ",
        method,
        " needs an admin entry in the allowed subjects (--tls-allowed-"
        "subjects)"));
  }
  if (subject.HasControlCharacter()) {
    return NotAuthorized(absl::StrCat(
        "client certificate \"", shown,
        "\" has a control character in its subject, which matches no "
        "allowed subject; ",
        method, " is refused"));
  }
  return NotAuthorized(absl::StrCat(
      "client certificate \"", shown,
      "\" is not in the allowed subjects (--tls-allowed-subjects); ", method,
      " needs ", RequiredAccess(method) == Access::kAdmin ? "an admin" : "an",
      " entry"));
}

absl::Status Authorizer::Authorize(const grpc::ServerContextBase& context,
                                   absl::string_view method) const {
  const std::string peer = context.peer();
  const bool mutating = RequiredAccess(method) == Access::kAdmin;
  if (peers_ != nullptr && peers_->IsTls(peer)) {
    absl::StatusOr<TlsPeer> client = peers_->LookupTls(peer);
    if (!client.ok()) {
      return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
                   absl::StrCat("cannot identify the TLS client on ", peer,
                                " (", client.status().message(), ")"));
    }
    if (client->certificate_pem.empty()) {
      return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
                   "the TLS client presented no verified certificate");
    }
    // The subject comes from the certificate's own structure, never from a
    // printed form, whose joined text a crafted value can imitate.
    absl::StatusOr<DistinguishedName> name =
        DistinguishedName::FromPemCertificate(client->certificate_pem);
    if (!name.ok()) {
      return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
                   absl::StrCat("the TLS client's certificate subject cannot "
                                "be read (",
                                name.status().message(), ")"));
    }
    const std::string subject = name->ToString();
    absl::Status allowed = CheckTls(*name, method);
    if (!allowed.ok()) {
      LogWarning(absl::StrCat("API: refused ", method, " from ", subject,
                              " (tls ", client->address, ")"));
    } else if (mutating) {
      LogInfo(absl::StrCat("API: ", method, " by ", subject, " (tls ",
                           client->address, ")"));
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

absl::StatusOr<Authorizer::Caller> Authorizer::Identify(
    const grpc::ServerContextBase& context) const {
  const std::string peer = context.peer();
  if (peers_ != nullptr && peers_->IsTls(peer)) {
    absl::StatusOr<TlsPeer> client = peers_->LookupTls(peer);
    if (client.ok())
      return Caller{absl::StrCat("tls ", client->subject), false};
  } else if (peers_ != nullptr) {
    absl::StatusOr<UnixCredentials> caller = peers_->Lookup(peer);
    if (caller.ok()) {
      return Caller{absl::StrCat("uid ", caller->uid), caller->uid == 0};
    }
  }
  return Error(absl::StatusCode::kPermissionDenied, reason::kCallerUnknown,
               absl::StrCat("cannot identify the caller on ", peer));
}

}  // namespace cloudlink::api

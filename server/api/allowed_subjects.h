#pragma once

// The --tls-allowed-subjects file: which verified client certificates may use
// the remote API, and how. One entry a line:
//
//   # comment
//   admin CN=ops-console,O=Example Corp
//   read  /C=DE/O=Example Corp/CN=dashboard
//   read  monitoring            (a bare common name)
//   publish producer-7
//
// The role is `admin` (every call), `publish` (Publish and the read calls)
// or `read` (GetState, WatchState). The
// subject is either a distinguished name, in any spelling OpenSSL prints
// (RFC 2253 "CN=a,O=b", the one-line "/O=b/CN=a", or "CN = a, O = b": the
// order of attributes and spaces around separators do not matter, attribute
// types are case-insensitive, values are compared exactly), or, without any
// '=', a bare common name that matches the certificate's CN.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::api {

// In increasing order of what they allow.
enum class SubjectRole { kNone, kRead, kPublish, kAdmin };

class AllowedSubjects {
 public:
  // An empty list: every subject has kNone.
  AllowedSubjects() = default;

  // Parses the file's text. INVALID_ARGUMENT TLS_SUBJECTS_INVALID naming
  // `origin` and the line for an unknown role, a missing or malformed
  // subject, or a subject listed twice.
  static absl::StatusOr<AllowedSubjects> Parse(absl::string_view text,
                                               absl::string_view origin);
  // Reads and parses `path`; FAILED_PRECONDITION TLS_SUBJECTS_UNREADABLE when
  // it cannot be read.
  static absl::StatusOr<AllowedSubjects> Load(const std::string& path);

  // The role of a client whose certificate has subject `subject_dn` (as gRPC
  // reports it, RFC 2253) and common name `common_name`: the highest role of
  // the entries that match either.
  SubjectRole RoleOf(absl::string_view subject_dn,
                     absl::string_view common_name) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    SubjectRole role;
    bool is_dn;              // else a bare common name
    std::string normalized;  // see NormalizeDn; the CN itself otherwise
  };
  std::vector<Entry> entries_;
};

// The canonical form of a distinguished name used for matching: its
// attributes as "TYPE=value" (type upper-case, escapes undone, spaces around
// separators trimmed), sorted, joined by newlines. INVALID_ARGUMENT when an
// attribute has no '=' or an empty type. Exposed for tests.
absl::StatusOr<std::string> NormalizeDn(absl::string_view dn);

}  // namespace cloudlink::api

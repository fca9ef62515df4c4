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
// (RFC 2253 "CN=a,O=b", the one-line "/O=b/CN=a", or "CN = a, O = b"), or,
// without any '=', a bare common name that matches the certificate's only CN.
//
// Names are compared as structures, never as joined text: a name is a list of
// RDNs, each a set of (type, value) attributes. Two names match when they
// have the same RDNs, in any order; within an RDN the order of attributes
// does not matter either. A multi-valued RDN ("CN=ops+O=Example") is one RDN,
// so it never matches two separate ones ("CN=ops,O=Example"). Attribute types
// are case-insensitive (and long names or OIDs equal their short name);
// values are compared exactly, byte for byte, after escapes are undone. A
// value holding a control character (C0, DEL or C1) never matches anything:
// the file refuses such an entry, and a certificate with one gets no role.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

typedef struct X509_name_st X509_NAME;

namespace cloudlink::api {

// In increasing order of what they allow.
enum class SubjectRole { kNone, kRead, kPublish, kAdmin };

// One attribute of an RDN.
struct NameAttribute {
  std::string type;   // canonical: an upper-case short name ("CN"), or an OID
  std::string value;  // UTF-8, escapes undone
  bool operator==(const NameAttribute& other) const {
    return type == other.type && value == other.value;
  }
  bool operator<(const NameAttribute& other) const {
    return type != other.type ? type < other.type : value < other.value;
  }
};

// A distinguished name as a structure. Immutable once made; thread-compatible.
class DistinguishedName {
 public:
  using Rdn = std::vector<NameAttribute>;  // sorted

  // Parses `text` in any spelling the allowed-subjects file accepts. In the
  // comma form, '+' joins the attributes of one RDN and ',' or ';' separates
  // RDNs; in the slash form ("/O=b/CN=a") every '/' starts a new RDN.
  // INVALID_ARGUMENT TLS_SUBJECTS_INVALID when an attribute has no '=' or an
  // empty type, or the name is empty.
  static absl::StatusOr<DistinguishedName> Parse(absl::string_view text);
  // The subject of a certificate, read from its ASN.1 structure (an RDN is
  // the entries that share a set number). INVALID_ARGUMENT when a value
  // cannot be converted to UTF-8.
  static absl::StatusOr<DistinguishedName> FromX509(const X509_NAME* name);
  // The subject of the first certificate in `pem`.
  static absl::StatusOr<DistinguishedName> FromPemCertificate(
      absl::string_view pem);

  // True when some value holds a control character.
  bool HasControlCharacter() const;
  // The value of the only CN attribute; none when there is no CN or more
  // than one.
  absl::optional<std::string> CommonName() const;
  // RFC 2253 text for messages and logs (RDNs in reverse order as OpenSSL
  // prints them, special characters, control characters and non-ASCII bytes
  // escaped as "\XX"), so that a crafted value cannot forge log text.
  std::string ToString() const;

  // Same RDNs, in any order.
  bool operator==(const DistinguishedName& other) const {
    return sorted_ == other.sorted_;
  }
  // In the certificate's order (RFC 2253 text is read back to front).
  const std::vector<Rdn>& rdns() const { return rdns_; }

 private:
  explicit DistinguishedName(std::vector<Rdn> rdns);
  std::vector<Rdn> rdns_;    // in the certificate's order
  std::vector<Rdn> sorted_;  // for comparison
};

class AllowedSubjects {
 public:
  // An empty list: every subject has kNone.
  AllowedSubjects() = default;

  // Parses the file's text. INVALID_ARGUMENT TLS_SUBJECTS_INVALID naming
  // `origin` and the line for an unknown role, a missing or malformed
  // subject, a subject with a control character, or a subject listed twice.
  static absl::StatusOr<AllowedSubjects> Parse(absl::string_view text,
                                               absl::string_view origin);
  // Reads and parses `path`; FAILED_PRECONDITION TLS_SUBJECTS_UNREADABLE when
  // it cannot be read.
  static absl::StatusOr<AllowedSubjects> Load(const std::string& path);

  // The role of a client whose certificate has subject `subject`: the highest
  // role of the entries that match it (a DN entry by structure, a bare
  // common name by the subject's only CN). kNone when the subject holds a
  // control character.
  SubjectRole RoleOf(const DistinguishedName& subject) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    SubjectRole role;
    absl::optional<DistinguishedName> dn;  // none: a bare common name
    std::string common_name;
  };
  std::vector<Entry> entries_;
};

}  // namespace cloudlink::api

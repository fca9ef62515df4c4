#include "server/api/allowed_subjects.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/error.h"

namespace cloudlink::api {
namespace {

absl::Status Invalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kTlsSubjectsInvalid,
               sentence);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// C0 controls, DEL, and the C1 controls in their UTF-8 form (C2 80..C2 9F).
bool HasControl(absl::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < value.size()) {
      const unsigned char next = static_cast<unsigned char>(value[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return true;
    }
  }
  return false;
}

std::string TypeOfNid(int nid) {
  return absl::AsciiStrToUpper(OBJ_nid2sn(nid));
}

// The canonical spelling of an attribute type written in the file: the
// upper-case short name of a type OpenSSL knows by any of its names or its
// OID, else the text upper-cased.
std::string CanonicalType(const std::string& type) {
  int nid = OBJ_txt2nid(type.c_str());
  if (nid == NID_undef) {
    // Short and long names in any case ("cn", "COMMONNAME").
    const std::string lower = absl::AsciiStrToLower(type);
    for (int candidate :
         {NID_commonName, NID_organizationName, NID_organizationalUnitName,
          NID_countryName, NID_localityName, NID_stateOrProvinceName,
          NID_domainComponent, NID_pkcs9_emailAddress, NID_userId,
          NID_serialNumber, NID_streetAddress, NID_title, NID_surname,
          NID_givenName}) {
      if (lower == absl::AsciiStrToLower(OBJ_nid2sn(candidate)) ||
          lower == absl::AsciiStrToLower(OBJ_nid2ln(candidate))) {
        nid = candidate;
        break;
      }
    }
  }
  if (nid != NID_undef) return TypeOfNid(nid);
  return absl::AsciiStrToUpper(type);
}

// One attribute being read: characters go to the type until the first
// unescaped '=', then to the value. Spaces are trimmed at both ends of each,
// except escaped ones.
struct Attribute {
  std::string type;
  std::string value;
  bool in_value = false;
  size_t value_kept = 0;  // value length that trimming must not cut into

  void Add(char c, bool escaped) {
    std::string& into = in_value ? value : type;
    if (!escaped && c == ' ' && into.empty()) return;
    into.push_back(c);
    if (escaped && in_value) value_kept = value.size();
  }
  bool Empty() const { return type.empty() && value.empty() && !in_value; }
  absl::StatusOr<NameAttribute> Finish(absl::string_view dn) {
    if (!in_value) {
      return Invalid(absl::StrCat("\"", dn, "\": \"", type,
                                  "\" is not an attribute (TYPE=value)"));
    }
    std::string kind(absl::StripTrailingAsciiWhitespace(type));
    while (value.size() > value_kept && value.back() == ' ') value.pop_back();
    if (kind.empty()) {
      return Invalid(absl::StrCat("\"", dn,
                                  "\" has an attribute without a "
                                  "type"));
    }
    return NameAttribute{CanonicalType(kind), std::move(value)};
  }
};

// Strips white space at both ends, except an escaped ("\ ") last one.
absl::string_view StripUnescaped(absl::string_view text) {
  text = absl::StripLeadingAsciiWhitespace(text);
  while (!text.empty() && absl::ascii_isspace(text.back()) &&
         !(text.size() >= 2 && text[text.size() - 2] == '\\')) {
    text.remove_suffix(1);
  }
  return text;
}

// RFC 2253 escaping, plus "\XX" for every byte outside printable ASCII.
std::string EscapeValue(absl::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    const bool special = c == ',' || c == '+' || c == '"' || c == '\\' ||
                         c == '<' || c == '>' || c == ';' ||
                         (i == 0 && (c == '#' || c == ' ')) ||
                         (i + 1 == value.size() && c == ' ');
    if (c < 0x20 || c >= 0x7f) {
      absl::StrAppend(
          &out, "\\",
          absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad2))));
    } else if (special) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

DistinguishedName::DistinguishedName(std::vector<Rdn> rdns)
    : rdns_(std::move(rdns)) {
  for (Rdn& rdn : rdns_) std::sort(rdn.begin(), rdn.end());
  sorted_ = rdns_;
  std::sort(sorted_.begin(), sorted_.end());
}

absl::StatusOr<DistinguishedName> DistinguishedName::Parse(
    absl::string_view text) {
  absl::string_view dn = StripUnescaped(text);
  const bool slash_form = !dn.empty() && dn.front() == '/';
  if (slash_form) dn.remove_prefix(1);
  std::vector<Rdn> rdns;
  Rdn rdn;
  Attribute current;
  auto finish_attribute = [&]() -> absl::Status {
    if (current.Empty()) return absl::OkStatus();
    absl::StatusOr<NameAttribute> done = current.Finish(dn);
    if (!done.ok()) return done.status();
    rdn.push_back(*std::move(done));
    current = Attribute();
    return absl::OkStatus();
  };
  auto finish_rdn = [&]() -> absl::Status {
    absl::Status status = finish_attribute();
    if (!status.ok()) return status;
    if (!rdn.empty()) rdns.push_back(std::move(rdn));
    rdn.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      const int high = HexValue(dn[i + 1]);
      const int low = i + 2 < dn.size() ? HexValue(dn[i + 2]) : -1;
      if (high >= 0 && low >= 0) {
        current.Add(static_cast<char>(high * 16 + low), true);
        i += 2;
      } else {
        current.Add(dn[++i], true);
      }
      continue;
    }
    absl::Status status;
    if (slash_form ? c == '/' : (c == ',' || c == ';')) {
      status = finish_rdn();
    } else if (!slash_form && c == '+') {
      status = finish_attribute();
    } else if (c == '=' && !current.in_value) {
      current.in_value = true;
    } else {
      current.Add(c, false);
    }
    if (!status.ok()) return status;
  }
  absl::Status status = finish_rdn();
  if (!status.ok()) return status;
  if (rdns.empty()) return Invalid("an empty distinguished name");
  // RFC 2253 text lists the certificate's last RDN first.
  if (!slash_form) std::reverse(rdns.begin(), rdns.end());
  return DistinguishedName(std::move(rdns));
}

absl::StatusOr<DistinguishedName> DistinguishedName::FromX509(
    const X509_NAME* name) {
  std::vector<Rdn> rdns;
  int current_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const int set = X509_NAME_ENTRY_set(entry);
    if (rdns.empty() || set != current_set) {
      rdns.emplace_back();
      current_set = set;
    }
    const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
    NameAttribute attribute;
    const int nid = OBJ_obj2nid(object);
    if (nid != NID_undef) {
      attribute.type = TypeOfNid(nid);
    } else {
      char oid[128];
      const int length = OBJ_obj2txt(oid, sizeof(oid), object, 1);
      if (length <= 0 || length >= static_cast<int>(sizeof(oid))) {
        return Invalid("a certificate name has an unreadable attribute type");
      }
      attribute.type = oid;
    }
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(
        &utf8, X509_NAME_ENTRY_get_data(const_cast<X509_NAME_ENTRY*>(entry)));
    if (length < 0) {
      return Invalid(absl::StrCat("a certificate name's ", attribute.type,
                                  " value is not convertible to UTF-8"));
    }
    attribute.value.assign(reinterpret_cast<const char*>(utf8), length);
    OPENSSL_free(utf8);
    rdns.back().push_back(std::move(attribute));
  }
  return DistinguishedName(std::move(rdns));
}

absl::StatusOr<DistinguishedName> DistinguishedName::FromPemCertificate(
    absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return Invalid("cannot read the certificate");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) return Invalid("the certificate does not parse");
  return FromX509(X509_get_subject_name(cert.get()));
}

bool DistinguishedName::HasControlCharacter() const {
  for (const Rdn& rdn : rdns_) {
    for (const NameAttribute& attribute : rdn) {
      if (HasControl(attribute.value)) return true;
    }
  }
  return false;
}

absl::optional<std::string> DistinguishedName::CommonName() const {
  absl::optional<std::string> found;
  for (const Rdn& rdn : rdns_) {
    for (const NameAttribute& attribute : rdn) {
      if (attribute.type != "CN") continue;
      if (found.has_value()) return absl::nullopt;
      found = attribute.value;
    }
  }
  return found;
}

std::string DistinguishedName::ToString() const {
  std::string out;
  for (auto rdn = rdns_.rbegin(); rdn != rdns_.rend(); ++rdn) {
    if (!out.empty()) out.push_back(',');
    bool first = true;
    for (const NameAttribute& attribute : *rdn) {
      if (!first) out.push_back('+');
      first = false;
      absl::StrAppend(&out, attribute.type, "=", EscapeValue(attribute.value));
    }
  }
  return out;
}

absl::StatusOr<AllowedSubjects> AllowedSubjects::Parse(
    absl::string_view text, absl::string_view origin) {
  AllowedSubjects result;
  std::vector<int> line_of;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = StripUnescaped(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.find_first_of(" \t");
    const absl::string_view role_word = line.substr(0, space);
    const absl::string_view subject =
        space == absl::string_view::npos
            ? absl::string_view()
            : absl::StripLeadingAsciiWhitespace(line.substr(space));
    const std::string where = absl::StrCat(origin, " line ", line_number);
    Entry entry;
    if (role_word == "admin") {
      entry.role = SubjectRole::kAdmin;
    } else if (role_word == "read") {
      entry.role = SubjectRole::kRead;
    } else if (role_word == "publish") {
      entry.role = SubjectRole::kPublish;
    } else {
      return Invalid(absl::StrCat(where,
                                  ": the role must be admin or read (or publish), "
                                  "got \"",
                                  role_word, "\""));
    }
    if (subject.empty()) {
      return Invalid(absl::StrCat(where, ": ", role_word,
                                  " needs a certificate subject (a DN or a "
                                  "common name)"));
    }
    if (subject.find('=') != absl::string_view::npos) {
      absl::StatusOr<DistinguishedName> dn = DistinguishedName::Parse(subject);
      if (!dn.ok()) {
        return Invalid(absl::StrCat(where, ": ", dn.status().message()));
      }
      if (dn->HasControlCharacter()) {
        return Invalid(absl::StrCat(where, ": \"", dn->ToString(),
                                    "\" has a control character, which no "
                                    "certificate may match"));
      }
      entry.dn = *std::move(dn);
    } else {
      if (HasControl(subject)) {
        return Invalid(absl::StrCat(where,
                                    ": the common name has a control "
                                    "character, which no certificate may "
                                    "match"));
      }
      entry.common_name = std::string(subject);
    }
    for (size_t i = 0; i < result.entries_.size(); ++i) {
      const Entry& seen = result.entries_[i];
      const bool same =
          seen.dn.has_value() == entry.dn.has_value() &&
          (entry.dn.has_value() ? *seen.dn == *entry.dn
                                : seen.common_name == entry.common_name);
      if (same) {
        return Invalid(absl::StrCat(where, ": \"", subject,
                                    "\" is already listed on line ",
                                    line_of[i]));
      }
    }
    result.entries_.push_back(std::move(entry));
    line_of.push_back(line_number);
  }
  return result;
}

absl::StatusOr<AllowedSubjects> AllowedSubjects::Load(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  if (file) text << file.rdbuf();
  if (!file || file.bad()) {
    return Error(
        absl::StatusCode::kFailedPrecondition, reason::kTlsSubjectsUnreadable,
        absl::StrCat("cannot read --tls-allowed-subjects file ", path));
  }
  return Parse(text.str(), path);
}

SubjectRole AllowedSubjects::RoleOf(const DistinguishedName& subject) const {
  if (subject.HasControlCharacter()) return SubjectRole::kNone;
  const absl::optional<std::string> common_name = subject.CommonName();
  SubjectRole best = SubjectRole::kNone;
  for (const Entry& entry : entries_) {
    const bool match = entry.dn.has_value()
                           ? *entry.dn == subject
                           : common_name.has_value() && !common_name->empty() &&
                                 *common_name == entry.common_name;
    if (match && static_cast<int>(entry.role) > static_cast<int>(best)) {
      best = entry.role;
    }
  }
  return best;
}

}  // namespace cloudlink::api

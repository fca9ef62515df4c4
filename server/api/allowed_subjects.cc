#include "server/api/allowed_subjects.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  absl::StatusOr<std::string> Finish(absl::string_view dn) {
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
    return absl::StrCat(absl::AsciiStrToUpper(kind), "=", value);
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

}  // namespace

absl::StatusOr<std::string> NormalizeDn(absl::string_view dn) {
  dn = StripUnescaped(dn);
  const bool slash_form = !dn.empty() && dn.front() == '/';
  if (slash_form) dn.remove_prefix(1);
  std::vector<std::string> attributes;
  Attribute current;
  auto finish = [&]() -> absl::Status {
    if (current.Empty()) return absl::OkStatus();
    absl::StatusOr<std::string> done = current.Finish(dn);
    if (!done.ok()) return done.status();
    attributes.push_back(*std::move(done));
    current = Attribute();
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
    const bool separator =
        slash_form ? c == '/' : (c == ',' || c == '+' || c == ';');
    if (separator) {
      absl::Status status = finish();
      if (!status.ok()) return status;
      continue;
    }
    if (c == '=' && !current.in_value) {
      current.in_value = true;
      continue;
    }
    current.Add(c, false);
  }
  absl::Status status = finish();
  if (!status.ok()) return status;
  if (attributes.empty()) return Invalid("an empty distinguished name");
  std::sort(attributes.begin(), attributes.end());
  return absl::StrJoin(attributes, "\n");
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
    entry.is_dn = subject.find('=') != absl::string_view::npos;
    if (entry.is_dn) {
      absl::StatusOr<std::string> normalized = NormalizeDn(subject);
      if (!normalized.ok()) {
        return Invalid(
            absl::StrCat(where, ": ", normalized.status().message()));
      }
      entry.normalized = *std::move(normalized);
    } else {
      entry.normalized = std::string(subject);
    }
    for (size_t i = 0; i < result.entries_.size(); ++i) {
      const Entry& seen = result.entries_[i];
      if (seen.is_dn == entry.is_dn && seen.normalized == entry.normalized) {
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

SubjectRole AllowedSubjects::RoleOf(absl::string_view subject_dn,
                                    absl::string_view common_name) const {
  absl::StatusOr<std::string> normalized = NormalizeDn(subject_dn);
  SubjectRole best = SubjectRole::kNone;
  for (const Entry& entry : entries_) {
    const bool match =
        entry.is_dn ? normalized.ok() && *normalized == entry.normalized
                    : !common_name.empty() && entry.normalized == common_name;
    if (match && static_cast<int>(entry.role) > static_cast<int>(best)) {
      best = entry.role;
    }
  }
  return best;
}

}  // namespace cloudlink::api

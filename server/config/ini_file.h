#pragma once

// The INI dialect of claim.conf and cloud.conf:
//
//   # comment            ; comment too (whole lines only)
//   [global]
//       url = https://app.netdata.cloud
//
// Lines are trimmed; blank and comment lines are skipped; a '#' or ';' after a
// value is part of the value (passwords and tokens may contain them). Keys are
// case-sensitive. Entries before the first "[section]" belong to the section
// named "". A UTF-8 byte order mark and CRLF line ends are accepted.
//
// Errors are INVALID_ARGUMENT "CONFIG_INVALID: <path>:<line>: <what and how to
// fix>" and never quote the offending line (it may hold a secret).
//
// All functions are pure and thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::config {

struct IniEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based line number in the parsed text; 0 when built
};

struct IniSection {
  std::string name;  // "" for entries before the first header
  int line = 0;      // line of the "[name]" header; 0 for "" or when built
  std::vector<IniEntry> entries;
};

// Sections in file order. A section name that appears twice yields two
// IniSection values (callers decide whether that is an error).
struct IniFile {
  std::vector<IniSection> sections;
};

// Parses `text`; `path` is used only in error messages.
absl::StatusOr<IniFile> ParseIni(absl::string_view text,
                                 absl::string_view path);

// Writes `file` with `header_comment` (each line prefixed "# ") first, then
// "[name]" and "    key = value" lines. Fails with CONFIG_INVALID for content
// that would not parse back to the same IniFile: a key that is empty, has
// '=' or starts with '#', ';' or '['; a value with a line break or
// surrounding whitespace; a section name with ']' or a line break; a ""
// section that is not first. `path` names the file in errors.
absl::StatusOr<std::string> SerializeIni(const IniFile& file,
                                         absl::string_view header_comment,
                                         absl::string_view path);

// Returns `text` with the value of `key` in every `section` block set to
// `value`, every other byte unchanged (comments, spacing, order, line ends).
// When the key is missing it is added after the last entry of the first
// block of `section` (or right after its header); when the section is
// missing, "[section]" and the key are appended at the end. Fails when `text`
// does not parse, `section` is "", or `key`/`value` could not be written
// (see SerializeIni). Used by RegenerateToken to update `token` in claim.conf.
absl::StatusOr<std::string> SetIniValue(absl::string_view text,
                                        absl::string_view path,
                                        absl::string_view section,
                                        absl::string_view key,
                                        absl::string_view value);

}  // namespace cloudlink::config

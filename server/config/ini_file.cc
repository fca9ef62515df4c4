#include "server/config/ini_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/config/error_context.h"

namespace cloudlink::config {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr absl::string_view kIndent = "    ";

// One physical line: its text without the line end, whether a '\r' ended
// it (before the '\n', or at the end of the file) and whether a '\n' did.
struct RawLine {
  absl::string_view text;
  bool crlf = false;
  bool has_newline = false;
};

std::vector<RawLine> SplitLines(absl::string_view text) {
  if (absl::StartsWith(text, kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  std::vector<RawLine> lines;
  while (!text.empty()) {
    RawLine line;
    size_t nl = text.find('\n');
    if (nl == absl::string_view::npos) {
      line.text = text;
      text = absl::string_view();
    } else {
      line.text = text.substr(0, nl);
      line.has_newline = true;
      text.remove_prefix(nl + 1);
    }
    if (absl::EndsWith(line.text, "\r")) {
      line.text.remove_suffix(1);
      line.crlf = true;
    }
    lines.push_back(line);
  }
  return lines;
}

enum class LineKind { kBlank, kSection, kEntry };

struct ParsedLine {
  LineKind kind = LineKind::kBlank;
  std::string name;  // section name or key
  std::string value;
  size_t value_start = 0;  // offset of the value in the raw line (kEntry)
};

absl::StatusOr<ParsedLine> ParseLine(absl::string_view raw,
                                     absl::string_view path, int line_no) {
  ParsedLine parsed;
  absl::string_view line = absl::StripAsciiWhitespace(raw);
  if (line.empty() || line.front() == '#' || line.front() == ';') {
    return parsed;
  }
  if (line.front() == '[') {
    if (line.back() != ']') {
      return ConfigInvalid(path, line_no,
                           "a section header must be '[name]' alone on its "
                           "line; add the closing ']'");
    }
    absl::string_view name =
        absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
    if (name.empty() || name.find_first_of("[]") != absl::string_view::npos) {
      return ConfigInvalid(path, line_no,
                           "the section name is empty or contains '[' or "
                           "']'; write it as '[global]'");
    }
    parsed.kind = LineKind::kSection;
    parsed.name = std::string(name);
    return parsed;
  }
  size_t eq = raw.find('=');
  if (eq == absl::string_view::npos) {
    return ConfigInvalid(path, line_no,
                         "expected 'key = value' or '[section]'; comment "
                         "lines start with '#' or ';'");
  }
  absl::string_view key = absl::StripAsciiWhitespace(raw.substr(0, eq));
  if (key.empty()) {
    return ConfigInvalid(path, line_no,
                         "expected 'key = value' but the key before '=' is "
                         "empty");
  }
  absl::string_view after = raw.substr(eq + 1);
  absl::string_view value = absl::StripAsciiWhitespace(after);
  parsed.kind = LineKind::kEntry;
  parsed.name = std::string(key);
  parsed.value = std::string(value);
  parsed.value_start = value.empty()
                           ? raw.size()
                           : static_cast<size_t>(value.data() - raw.data());
  return parsed;
}

bool HasLineBreak(absl::string_view s) {
  return s.find_first_of("\r\n") != absl::string_view::npos;
}

absl::Status CheckWritableKey(absl::string_view key, absl::string_view path) {
  if (key.empty() || HasLineBreak(key) ||
      key.find('=') != absl::string_view::npos ||
      absl::StripAsciiWhitespace(key) != key || key.front() == '#' ||
      key.front() == ';' || key.front() == '[') {
    return ConfigInvalid(path, 0,
                         absl::StrCat("cannot write the key '",
                                      absl::CHexEscape(key.substr(0, 64)),
                                      "'; keys are non-empty words without "
                                      "'=' or line breaks"));
  }
  return absl::OkStatus();
}

absl::Status CheckWritableValue(absl::string_view key, absl::string_view value,
                                absl::string_view path) {
  // The value is not quoted: it may be a secret.
  if (HasLineBreak(value) || absl::StripAsciiWhitespace(value) != value) {
    return ConfigInvalid(path, 0,
                         absl::StrCat("cannot write the value of '", key,
                                      "': it has a line break or leading or "
                                      "trailing whitespace"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IniFile> ParseIni(absl::string_view text,
                                 absl::string_view path) {
  IniFile file;
  std::vector<RawLine> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    int line_no = static_cast<int>(i) + 1;
    ASSIGN_OR_RETURN(ParsedLine parsed,
                     ParseLine(lines[i].text, path, line_no));
    switch (parsed.kind) {
      case LineKind::kBlank:
        break;
      case LineKind::kSection:
        file.sections.push_back(IniSection{parsed.name, line_no, {}});
        break;
      case LineKind::kEntry:
        if (file.sections.empty()) file.sections.push_back(IniSection{});
        file.sections.back().entries.push_back(
            IniEntry{parsed.name, parsed.value, line_no});
        break;
    }
  }
  return file;
}

absl::StatusOr<std::string> SerializeIni(const IniFile& file,
                                         absl::string_view header_comment,
                                         absl::string_view path) {
  std::string out;
  if (!header_comment.empty()) {
    for (absl::string_view line : absl::StrSplit(header_comment, '\n')) {
      absl::StrAppend(&out, line.empty() ? "#" : absl::StrCat("# ", line),
                      "\n");
    }
  }
  for (size_t i = 0; i < file.sections.size(); ++i) {
    const IniSection& section = file.sections[i];
    if (section.name.empty()) {
      if (i != 0) {
        return ConfigInvalid(path, 0,
                             "entries outside a section must come first");
      }
    } else {
      if (HasLineBreak(section.name) ||
          section.name.find_first_of("[]") != std::string::npos ||
          absl::StripAsciiWhitespace(section.name) != section.name) {
        return ConfigInvalid(path, 0, "cannot write that section name");
      }
      absl::StrAppend(&out, "[", section.name, "]\n");
    }
    for (const IniEntry& entry : section.entries) {
      RETURN_IF_ERROR(CheckWritableKey(entry.key, path));
      RETURN_IF_ERROR(CheckWritableValue(entry.key, entry.value, path));
      absl::StrAppend(&out, kIndent, entry.key, " = ", entry.value, "\n");
    }
  }
  return out;
}

absl::StatusOr<std::string> SetIniValue(absl::string_view text,
                                        absl::string_view path,
                                        absl::string_view section,
                                        absl::string_view key,
                                        absl::string_view value) {
  if (section.empty()) {
    return ConfigInvalid(path, 0, "SetIniValue needs a section name");
  }
  RETURN_IF_ERROR(CheckWritableKey(key, path));
  RETURN_IF_ERROR(CheckWritableValue(key, value, path));
  RETURN_IF_ERROR(ParseIni(text, path).status());

  bool has_bom = absl::StartsWith(text, kUtf8Bom);
  std::vector<RawLine> lines = SplitLines(text);
  bool crlf = !lines.empty() && lines.front().crlf;
  absl::string_view eol = crlf ? "\r\n" : "\n";

  // Rebuilt line by line. A missing key goes after `insert_after`: the last
  // entry of the first block of `section`, or its header.
  std::vector<std::string> out_lines;
  out_lines.reserve(lines.size() + 2);
  std::string current;
  bool replaced = false;
  bool seen_block = false;
  bool in_first_block = false;
  int insert_after = -1;
  std::string insert_indent(kIndent);
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view raw = lines[i].text;
    // Validated by ParseIni above, so this cannot fail.
    ParsedLine parsed = *ParseLine(raw, path, static_cast<int>(i) + 1);
    std::string new_line(raw);
    if (parsed.kind == LineKind::kSection) {
      current = parsed.name;
      in_first_block = current == section && !seen_block;
      if (in_first_block) {
        seen_block = true;
        insert_after = static_cast<int>(i);
      }
    } else if (parsed.kind == LineKind::kEntry && current == section) {
      if (parsed.name == key) {
        absl::string_view head = raw.substr(0, parsed.value_start);
        absl::string_view sep = absl::EndsWith(head, "=") ? " " : "";
        new_line = absl::StrCat(head, sep, value);
        replaced = true;
      }
      if (in_first_block) {
        insert_after = static_cast<int>(i);
        insert_indent = std::string(raw.substr(
            0, raw.size() - absl::StripLeadingAsciiWhitespace(raw).size()));
      }
    }
    out_lines.push_back(std::move(new_line));
  }

  std::string new_entry = absl::StrCat(insert_indent, key, " = ", value);
  bool append_at_end = false;
  if (!replaced) {
    if (seen_block) {
      out_lines.insert(out_lines.begin() + insert_after + 1, new_entry);
      lines.insert(lines.begin() + insert_after + 1,
                   RawLine{absl::string_view(), crlf, true});
    } else {
      append_at_end = true;
    }
  }

  std::string out(has_bom ? kUtf8Bom : absl::string_view());
  for (size_t i = 0; i < out_lines.size(); ++i) {
    out += out_lines[i];
    if (lines[i].has_newline) {
      out += lines[i].crlf ? "\r\n" : "\n";
    } else {
      if (lines[i].crlf) out += '\r';  // a lone '\r' ending the file
      if (i + 1 < out_lines.size() || append_at_end) {
        absl::StrAppend(&out, eol);  // the old last line had no line end
      }
    }
  }
  if (append_at_end) {
    if (!out_lines.empty())
      absl::StrAppend(&out, eol);  // a blank line before the section
    absl::StrAppend(&out, "[", section, "]", eol, kIndent, key, " = ", value,
                    eol);
  }
  return out;
}

}  // namespace cloudlink::config

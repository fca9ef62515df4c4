#include "tools/devcloud/env_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace cloudlink::devcloud {

std::string ShellQuote(absl::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::string("_,.:/@%+=-").find(c) == std::string::npos) {
      plain = false;
    }
  }
  if (plain) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

std::string FormatEnvLines(const EnvLines& lines) {
  std::string out;
  for (const auto& [key, value] : lines) {
    out += key + "=" + ShellQuote(value) + "\n";
  }
  return out;
}

absl::Status WriteEnvFile(const std::string& path, const EnvLines& lines,
                          state::FileSystem* fs) {
  return fs->WriteFileAtomic(path, FormatEnvLines(lines), 0600);
}

EnvLines ParseEnvLines(absl::string_view text) {
  EnvLines lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    std::string value(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      std::string unquoted;
      absl::string_view inner(value);
      inner = inner.substr(1, inner.size() - 2);
      for (size_t i = 0; i < inner.size(); ++i) {
        if (inner.substr(i, 4) == "'\\''") {
          unquoted.push_back('\'');
          i += 3;
        } else {
          unquoted.push_back(inner[i]);
        }
      }
      value = unquoted;
    }
    lines.emplace_back(std::string(line.substr(0, eq)), value);
  }
  return lines;
}

}  // namespace cloudlink::devcloud

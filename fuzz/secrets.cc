#include "fuzz/secrets.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "fuzz/fuzz_check.h"

namespace cloudlink::fuzz {
namespace {

size_t CountOccurrences(absl::string_view text, absl::string_view part) {
  size_t count = 0;
  for (size_t pos = text.find(part); pos != absl::string_view::npos;
       pos = text.find(part, pos + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

std::vector<std::string> SecretsInConfigText(absl::string_view text) {
  std::vector<std::string> candidates;
  for (absl::string_view line : absl::StrSplit(text, absl::ByAnyChar("\r\n"))) {
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (key == "token") {
      candidates.emplace_back(value);
    } else if (key == "proxy") {
      size_t scheme = value.find("://");
      size_t at = value.rfind('@');
      if (scheme == absl::string_view::npos || at == absl::string_view::npos ||
          at < scheme) {
        continue;
      }
      absl::string_view credentials = value.substr(scheme + 3, at - scheme - 3);
      size_t colon = credentials.find(':');
      if (colon != absl::string_view::npos) {
        candidates.emplace_back(credentials.substr(colon + 1));
      }
    }
  }
  std::vector<std::string> secrets;
  for (const std::string& candidate : candidates) {
    if (candidate.size() >= 6 && CountOccurrences(text, candidate) == 1) {
      secrets.push_back(candidate);
    }
  }
  return secrets;
}

void CheckNoSecretQuoted(absl::string_view text, absl::string_view message) {
  for (const std::string& secret : SecretsInConfigText(text)) {
    FUZZ_CHECK(!absl::StrContains(message, secret),
               "a message quotes a secret: " + std::string(message));
  }
}

}  // namespace cloudlink::fuzz

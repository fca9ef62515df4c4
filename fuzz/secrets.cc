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

// Each letter and digit shifted by `shift` (1 or 2) in its class; other
// bytes kept.
std::string Altered(absl::string_view secret, int shift) {
  std::string out(secret);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>('a' + (c - 'a' + shift) % 26);
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>('A' + (c - 'A' + shift) % 26);
    } else if (c >= '0' && c <= '9') {
      c = static_cast<char>('0' + (c - '0' + shift) % 10);
    }
  }
  return out;
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

void CheckNoSecretQuoted(absl::string_view text, const MessageOf& message_of) {
  const std::vector<std::string> secrets = SecretsInConfigText(text);
  if (secrets.empty()) return;
  const std::string message = message_of(text);
  for (const std::string& secret : secrets) {
    if (!absl::StrContains(message, secret)) continue;
    // Quoted only if each altered spelling shows too (and the alteration is
    // new to the text, so it cannot come from elsewhere in it).
    bool quoted = true;
    std::string shown;
    for (int shift = 1; shift <= 2 && quoted; ++shift) {
      const std::string altered = Altered(secret, shift);
      if (altered == secret || absl::StrContains(text, altered)) {
        quoted = false;
        break;
      }
      std::string other(text);
      other.replace(other.find(secret), secret.size(), altered);
      shown = message_of(other);
      quoted = absl::StrContains(shown, altered);
    }
    FUZZ_CHECK(!quoted, "a message quotes a secret: " + shown);
  }
}

}  // namespace cloudlink::fuzz

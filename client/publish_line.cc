#include "client/publish_line.h"

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace cloudlink::client {
namespace {

// A cursor over the line; every Take* returns false on anything outside
// the simple shape.
class Scanner {
 public:
  explicit Scanner(absl::string_view text) : rest_(text) {}

  void SkipSpace() {
    while (!rest_.empty() && (rest_[0] == ' ' || rest_[0] == '\t' ||
                              rest_[0] == '\r' || rest_[0] == '\n')) {
      rest_.remove_prefix(1);
    }
  }
  bool Take(char c) {
    SkipSpace();
    if (rest_.empty() || rest_[0] != c) return false;
    rest_.remove_prefix(1);
    return true;
  }
  bool AtEnd() {
    SkipSpace();
    return rest_.empty();
  }
  bool Peek(char c) {
    SkipSpace();
    return !rest_.empty() && rest_[0] == c;
  }
  // An ASCII string without escapes or control characters (protobuf's
  // parser checks UTF-8 and decodes escapes: those lines go to it).
  bool TakeString(absl::string_view* out) {
    if (!Take('"')) return false;
    for (size_t i = 0; i < rest_.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(rest_[i]);
      if (c == '"') {
        *out = rest_.substr(0, i);
        rest_.remove_prefix(i + 1);
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }
  // Decimal digits, as a JSON number without sign, fraction or exponent.
  bool TakeDigits(absl::string_view* out) {
    SkipSpace();
    size_t n = 0;
    while (n < rest_.size() && absl::ascii_isdigit(rest_[n])) ++n;
    if (n == 0) return false;
    *out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  bool TakeWord(absl::string_view word) {
    SkipSpace();
    if (!absl::StartsWith(rest_, word)) return false;
    rest_.remove_prefix(word.size());
    return true;
  }

 private:
  absl::string_view rest_;
};

bool Uint64(absl::string_view digits, uint64_t* out) {
  if (digits.size() > 1 && digits[0] == '0') return false;  // no leading 0
  return absl::SimpleAtoi(digits, out);
}

bool StandardBase64(absl::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i < text.size() - 2) return false;
      ++pad;
    } else if (pad > 0 || !(absl::ascii_isalnum(c) || c == '+' || c == '/')) {
      return false;
    }
  }
  return absl::Base64Unescape(text, out);
}

}  // namespace

bool ParseSimplePublishLine(absl::string_view line,
                            cloudlink::v1::PublishRequest* out) {
  out->Clear();
  Scanner in(line);
  if (!in.Take('{')) return false;
  bool seen_id = false, seen_topic = false, seen_payload = false,
       seen_level = false, seen_wait = false;
  if (in.Take('}')) return in.AtEnd();
  while (true) {
    absl::string_view key;
    if (!in.TakeString(&key) || !in.Take(':')) return false;
    if (key == "id") {
      if (seen_id) return false;
      seen_id = true;
      absl::string_view digits;
      uint64_t id = 0;
      if (in.Peek('"')) {
        absl::string_view quoted;
        if (!in.TakeString(&quoted) || quoted.empty()) return false;
        for (char c : quoted) {
          if (!absl::ascii_isdigit(c)) return false;
        }
        digits = quoted;
      } else if (!in.TakeDigits(&digits)) {
        return false;
      }
      if (!Uint64(digits, &id)) return false;
      out->set_id(id);
    } else if (key == "topic") {
      if (seen_topic) return false;
      seen_topic = true;
      absl::string_view topic;
      if (!in.TakeString(&topic)) return false;
      out->set_topic(std::string(topic));
    } else if (key == "payload") {
      if (seen_payload) return false;
      seen_payload = true;
      absl::string_view text;
      if (!in.TakeString(&text) ||
          !StandardBase64(text, out->mutable_payload())) {
        return false;
      }
    } else if (key == "level") {
      if (seen_level) return false;
      seen_level = true;
      cloudlink::v1::DeliveryLevel level;
      if (in.Peek('"')) {
        absl::string_view name;
        if (!in.TakeString(&name) ||
            !cloudlink::v1::DeliveryLevel_Parse(std::string(name), &level)) {
          return false;
        }
      } else {
        absl::string_view digits;
        uint64_t number = 0;
        if (!in.TakeDigits(&digits) || !Uint64(digits, &number) ||
            number > 1000 ||
            !cloudlink::v1::DeliveryLevel_IsValid(static_cast<int>(number))) {
          return false;
        }
        level = static_cast<cloudlink::v1::DeliveryLevel>(number);
      }
      out->set_level(level);
    } else if (key == "waitWhenFull" || key == "wait_when_full") {
      if (seen_wait) return false;
      seen_wait = true;
      if (in.TakeWord("true")) {
        out->set_wait_when_full(true);
      } else if (!in.TakeWord("false")) {
        return false;
      }
    } else {
      return false;
    }
    if (in.Take('}')) return in.AtEnd();
    if (!in.Take(',')) return false;
  }
}

}  // namespace cloudlink::client

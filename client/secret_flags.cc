#include "client/secret_flags.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

absl::Status Unreadable(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kSecretUnreadable,
               sentence);
}

// `text` as a secret: trimmed, one non-empty line.
absl::StatusOr<std::string> OneLine(std::string text, absl::string_view what) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return Unreadable(absl::StrCat(what, " is empty"));
  if (trimmed.find_first_of("\r\n") != absl::string_view::npos) {
    return Unreadable(absl::StrCat(
        what, " holds more than one line; it must hold the secret alone"));
  }
  return std::string(trimmed);
}

}  // namespace

absl::StatusOr<std::string> ReadSecret(const SecretInput& input,
                                       std::istream& in) {
  const std::string flag = absl::StrCat("--", input.flag->name);
  if (input.form == SecretForm::kStdin) {
    std::string line;
    if (!std::getline(in, line)) {
      return Unreadable(absl::StrCat(
          flag, " -: standard input ended before a line was read"));
    }
    return OneLine(std::move(line),
                   absl::StrCat(flag, " -: the first line of standard input"));
  }
  const std::string what = absl::StrCat(flag, "-file: ", input.path);
  std::ifstream file(input.path, std::ios::binary);
  if (!file) {
    return Unreadable(
        absl::StrCat(what, " cannot be read (", strerror(errno), ")"));
  }
  std::string text(kMaxSecretFileBytes + 1, '\0');
  file.read(&text[0], static_cast<std::streamsize>(text.size()));
  if (file.bad()) {
    return Unreadable(absl::StrCat(what, " cannot be read"));
  }
  text.resize(static_cast<size_t>(file.gcount()));
  if (text.size() > kMaxSecretFileBytes) {
    return Unreadable(absl::StrCat(what, " is larger than ",
                                   kMaxSecretFileBytes,
                                   " bytes; it must hold the secret alone"));
  }
  return OneLine(std::move(text), what);
}

std::string SecretArgumentWarning(const FlagSpec& flag) {
  return absl::StrCat(
      "--", flag.name,
      " was given on the command line, where every local user can read it "
      "(/proc/PID/cmdline, ps); use --",
      flag.name, "-file PATH, --", flag.name,
      " - (standard input) or the environment variable ", SecretEnvVar(flag),
      " instead");
}

}  // namespace cloudlink::client

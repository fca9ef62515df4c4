#pragma once

// The secrets a config text holds, so a fuzz target can check that no error
// message quotes them: the value of every "token = ..." line and the
// password of every "proxy = scheme://user:password@host" line. Only values
// of at least 6 bytes that occur exactly once in the text count (a shorter
// or repeated value may legitimately appear in a message as something
// else). Pure functions.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cloudlink::fuzz {

std::vector<std::string> SecretsInConfigText(absl::string_view text);

// Aborts (FUZZ_CHECK) when `message` contains one of SecretsInConfigText(text).
void CheckNoSecretQuoted(absl::string_view text, absl::string_view message);

}  // namespace cloudlink::fuzz

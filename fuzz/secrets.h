#pragma once

// The secrets a config text holds, so a fuzz target can check that no error
// message quotes them: the value of every "token = ..." line and the
// password of every "proxy = scheme://user:password@host" line. Only values
// of at least 6 bytes that occur exactly once in the text count (a shorter
// or repeated value may legitimately appear in a message as something
// else). Pure functions.

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cloudlink::fuzz {

std::vector<std::string> SecretsInConfigText(absl::string_view text);

// The message the parser gives for a text (empty when it parses).
using MessageOf = std::function<std::string(absl::string_view text)>;

// Aborts (FUZZ_CHECK) when a secret of `text` shows in the parser's message:
// the message for `text` contains the secret AND, for two alterations of it
// (each letter and digit shifted by one, then by two, so it stays as valid
// as it was; each new to the text), the message for the altered text
// contains the altered secret. The alterations tell a quoted value from one
// the fuzzer spelled to match the message's fixed wording or the path.
void CheckNoSecretQuoted(absl::string_view text, const MessageOf& message_of);

}  // namespace cloudlink::fuzz

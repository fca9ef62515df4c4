#pragma once

// Secrets never reach logs, errors, GetState or CLI output.
// These helpers make the one allowed form of each.

#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink {

// "****" followed by at most the last 4 characters of `secret` (none when the
// secret is shorter than 12 characters, so short secrets are not half shown).
// "" for an empty secret.
std::string RedactSecret(absl::string_view secret);

// `url` with the password of any "user:password@" part replaced by "****"
// ("http://bob:****@proxy:3128"). Text that is not a URL is returned as is.
std::string RedactUrlCredentials(absl::string_view url);

}  // namespace cloudlink

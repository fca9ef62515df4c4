#pragma once

// How secrets (claim tokens, API tokens, proxy passwords) are shown. They
// never reach logs, errors, GetState or CLI output as themselves; wherever
// one would appear, it goes through RedactSecret (RedactUrlCredentials for
// proxy URLs, which uses it), so there is one place that decides what of a
// secret may be seen.

#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink {

// The form every secret is shown in: "****", whatever the secret. Nothing of
// it shows, not its characters, its length, nor whether it is empty. Pure.
std::string RedactSecret(absl::string_view secret);

// `url` with the user info's password replaced by RedactSecret
// ("http://bob:s3cret@proxy:3128" → "http://bob:****@proxy:3128"). A user
// name without a password is marked the same way ("http://bob@proxy" →
// "http://bob:****@proxy"), so the output does not tell whether there was a
// password. The user info ends at the last '@' before the path, so an
// unencoded '@' in a password does not leak its tail. Text without user info
// (including text that is not a URL, such as "env") is returned as is. Pure.
std::string RedactUrlCredentials(absl::string_view url);

}  // namespace cloudlink

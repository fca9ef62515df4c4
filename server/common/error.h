#pragma once

// Errors a user can see: a canonical code plus a message that starts with an
// UPPER_SNAKE reason, then a sentence for a person (docs/operating.md):
//
//   PERMISSION_DENIED "TOKEN_INVALID: the cloud rejected the claim token ..."
//
// Every part builds its user-facing errors with Error(); the API layer passes
// code and message through unchanged.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink {

// Returns a status with `code` and the message "REASON: sentence".
absl::Status Error(absl::StatusCode code, absl::string_view reason,
                   absl::string_view sentence);

// The UPPER_SNAKE reason at the start of `status`'s message, or "" when the
// message does not start with one.
std::string ReasonOf(const absl::Status& status);

}  // namespace cloudlink

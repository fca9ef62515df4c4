#pragma once

// Config errors say where they happened: "REASON: /etc/cloudlink/claim.conf:4:
// sentence". These helpers put the place between the reason and the sentence
// so a reason from a lower layer (PROXY_UNSUPPORTED, URL_INVALID, ...) stays
// first and machine-readable.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink::config {

// "path:line" for line > 0, "path" otherwise.
std::string Location(absl::string_view path, int line);

// INVALID_ARGUMENT "CONFIG_INVALID: <Location(path, line)>: <sentence>".
absl::Status ConfigInvalid(absl::string_view path, int line,
                           absl::string_view sentence);

// `status` with "<where>: " inserted after its "REASON: " prefix (or at the
// start of the message when it has no reason). Code and payloads are kept.
// OK stays OK.
absl::Status AddErrorContext(const absl::Status& status,
                             absl::string_view where);

}  // namespace cloudlink::config

#pragma once

// UUIDs as the cloud protocol uses them: lowercase, 36 characters with dashes.

#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink {

// A random (version 4) UUID from the OpenSSL CSPRNG.
std::string NewUuidV4();

// True when `text` is a UUID in canonical form (8-4-4-4-12 hex digits, either
// case). Does not check the version.
bool IsUuid(absl::string_view text);

// A node id as the cloud hands them out (UUIDs today): 1 to 64 characters of
// [A-Za-z0-9-]. Anything else from the cloud or from disk is refused.
bool IsValidNodeId(absl::string_view text);

// `text` in lowercase.
std::string LowercaseUuid(absl::string_view text);

}  // namespace cloudlink

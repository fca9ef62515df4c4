#pragma once

// Value types shared by claim.conf and cloud.conf.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace cloudlink::config {

// yes/no, true/false, 1/0, on/off in any case, surrounding whitespace
// ignored. Empty optional for anything else (the caller reports where).
absl::optional<bool> ParseBool(absl::string_view text);

// "yes" or "no", the form cloudlink writes.
const char* FormatBool(bool value);

// A comma list of room ids: items trimmed, empty items dropped, order kept.
// ParseRooms("a, b,,c ") == {"a", "b", "c"}. Does not validate the ids.
std::vector<std::string> ParseRooms(absl::string_view text);

// The rooms joined by "," (the inverse of ParseRooms for valid room ids).
std::string FormatRooms(const std::vector<std::string>& rooms);

}  // namespace cloudlink::config

#include "server/config/values.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace cloudlink::config {

absl::optional<bool> ParseBool(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  for (absl::string_view yes : {"yes", "true", "1", "on"}) {
    if (absl::EqualsIgnoreCase(text, yes)) return true;
  }
  for (absl::string_view no : {"no", "false", "0", "off"}) {
    if (absl::EqualsIgnoreCase(text, no)) return false;
  }
  return absl::nullopt;
}

const char* FormatBool(bool value) { return value ? "yes" : "no"; }

std::vector<std::string> ParseRooms(absl::string_view text) {
  std::vector<std::string> rooms;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) rooms.emplace_back(item);
  }
  return rooms;
}

std::string FormatRooms(const std::vector<std::string>& rooms) {
  return absl::StrJoin(rooms, ",");
}

}  // namespace cloudlink::config

#include "server/config/error_context.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::config {

std::string Location(absl::string_view path, int line) {
  if (line <= 0) return std::string(path);
  return absl::StrCat(path, ":", line);
}

absl::Status ConfigInvalid(absl::string_view path, int line,
                           absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, "CONFIG_INVALID",
               absl::StrCat(Location(path, line), ": ", sentence));
}

absl::Status AddErrorContext(const absl::Status& status,
                             absl::string_view where) {
  if (status.ok()) return status;
  std::string reason = ReasonOf(status);
  absl::string_view message = status.message();
  std::string new_message;
  if (reason.empty()) {
    new_message = absl::StrCat(where, ": ", message);
  } else {
    absl::string_view rest = message.substr(reason.size() + 1);  // after ':'
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    new_message = absl::StrCat(reason, ": ", where, ": ", rest);
  }
  absl::Status result(status.code(), new_message);
  status.ForEachPayload(
      [&result](absl::string_view type_url, const absl::Cord& payload) {
        result.SetPayload(type_url, payload);
      });
  return result;
}

}  // namespace cloudlink::config

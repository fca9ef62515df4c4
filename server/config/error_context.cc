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
  return Error(absl::StatusCode::kInvalidArgument, reason::kConfigInvalid,
               absl::StrCat(Location(path, line), ": ", sentence));
}

absl::Status AddErrorContext(const absl::Status& status,
                             absl::string_view where) {
  if (status.ok()) return status;
  absl::string_view message = status.message();
  // Error() wrote the reason, as people read it, before the first ':'.
  const size_t colon = message.find(':');
  std::string new_message;
  if (ReasonOf(status).empty() || colon == absl::string_view::npos) {
    new_message = absl::StrCat(where, ": ", message);
  } else {
    absl::string_view rest = message.substr(colon + 1);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    new_message =
        absl::StrCat(message.substr(0, colon), ": ", where, ": ", rest);
  }
  absl::Status result(status.code(), new_message);
  status.ForEachPayload(
      [&result](absl::string_view type_url, const absl::Cord& payload) {
        result.SetPayload(type_url, payload);
      });
  return result;
}

}  // namespace cloudlink::config

#include "server/common/error.h"

#include "absl/strings/str_cat.h"

namespace cloudlink {

absl::Status Error(absl::StatusCode code, absl::string_view reason,
                   absl::string_view sentence) {
  return absl::Status(code, absl::StrCat(reason, ": ", sentence));
}

std::string ReasonOf(const absl::Status& status) {
  absl::string_view message = status.message();
  size_t i = 0;
  while (i < message.size() &&
         ((message[i] >= 'A' && message[i] <= 'Z') ||
          (message[i] >= '0' && message[i] <= '9') || message[i] == '_')) {
    ++i;
  }
  if (i == 0 || i >= message.size() || message[i] != ':') return "";
  return std::string(message.substr(0, i));
}

}  // namespace cloudlink

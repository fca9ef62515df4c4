#include "tools/devcloud/http_answer.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace cloudlink::devcloud {

HttpAnswer ErrorAnswer(int status, absl::string_view error_code,
                       absl::string_view error_msg_key,
                       absl::string_view error_message) {
  HttpAnswer answer;
  answer.status = status;
  answer.body = {{"errorCode", std::string(error_code)},
                 {"errorMsgKey", std::string(error_msg_key)},
                 {"errorMessage", std::string(error_message)}};
  return answer;
}

std::string BearerToken(absl::string_view authorization) {
  absl::string_view value = absl::StripAsciiWhitespace(authorization);
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) return "";
  return std::string(absl::StripAsciiWhitespace(value.substr(7)));
}

}  // namespace cloudlink::devcloud

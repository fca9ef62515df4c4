#pragma once

// What an endpoint of the dev cloud answers, independent of the HTTP server
// library, so the endpoint logic is plain functions of their inputs.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace cloudlink::devcloud {

struct HttpAnswer {
  int status = 200;
  nlohmann::json body;  // null → empty body (e.g. 204)
  std::vector<std::pair<std::string, std::string>> headers;
};

// The cloud's error body:
// {"errorCode":code,"errorMsgKey":key,"errorMessage":message}.
HttpAnswer ErrorAnswer(int status, absl::string_view error_code,
                       absl::string_view error_msg_key,
                       absl::string_view error_message);

// The bearer token of an "Authorization: Bearer <token>" header value, or ""
// when the value has another form.
std::string BearerToken(absl::string_view authorization);

}  // namespace cloudlink::devcloud

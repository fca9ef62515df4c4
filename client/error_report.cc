#include "client/error_report.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& json) {
  return absl::StrCat(json.dump(-1, ' ', false, Json::error_handler_t::replace),
                      "\n");
}

}  // namespace

CliError ErrorOf(const absl::Status& status, int exit_code) {
  CliError error;
  error.code = absl::StatusCodeToString(status.code());
  error.reason = ReasonOf(status);
  error.message = std::string(status.message());
  error.exit_code = exit_code;
  return error;
}

std::string ErrorJson(const CliError& error) {
  Json body;
  body["code"] = error.code;
  body["reason"] = error.reason;
  body["message"] = error.message;
  body["exit_code"] = error.exit_code;
  Json json;
  json["error"] = std::move(body);
  return Dump(json);
}

std::string WarningJson(absl::string_view reason, absl::string_view message) {
  Json body;
  body["reason"] = std::string(reason);
  body["message"] = std::string(message);
  Json json;
  json["warning"] = std::move(body);
  return Dump(json);
}

}  // namespace cloudlink::client

#include "tools/devcloud/fault_injector.h"

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::devcloud {

using nlohmann::json;

namespace {

absl::Status FaultInvalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kFaultInvalid,
               sentence);
}

}  // namespace

absl::StatusOr<FaultRule> ParseFaultRule(absl::string_view json_text) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return FaultInvalid("the body is not a JSON object");
  }
  FaultRule rule;
  if (!doc.contains("pathPrefix") || !doc["pathPrefix"].is_string()) {
    return FaultInvalid("pathPrefix (string) is required");
  }
  rule.path_prefixes = {doc["pathPrefix"].get<std::string>()};
  if (!doc.contains("status") || !doc["status"].is_number_integer() ||
      doc["status"].get<int>() < 100 || doc["status"].get<int>() > 599) {
    return FaultInvalid("status (100..599) is required");
  }
  rule.answer.status = doc["status"].get<int>();
  if (doc.contains("count")) {
    if (!doc["count"].is_number_integer() || doc["count"].get<int>() < 1) {
      return FaultInvalid("count must be a positive integer");
    }
    rule.remaining = doc["count"].get<int>();
  }
  if (doc.contains("delayMs")) {
    if (!doc["delayMs"].is_number_integer() || doc["delayMs"].get<int>() < 0 ||
        doc["delayMs"].get<int>() > 120000) {
      return FaultInvalid("delayMs must be 0..120000");
    }
    rule.delay = absl::Milliseconds(doc["delayMs"].get<int>());
  }
  if (doc.contains("body")) rule.answer.body = doc["body"];
  if (doc.contains("headers")) {
    if (!doc["headers"].is_object()) {
      return FaultInvalid("headers must be an object of strings");
    }
    for (const auto& [name, value] : doc["headers"].items()) {
      if (!value.is_string()) {
        return FaultInvalid("headers must be an object of strings");
      }
      rule.answer.headers.emplace_back(name, value.get<std::string>());
    }
  }
  return rule;
}

absl::StatusOr<FaultRule> ParseLoginErrorRule(absl::string_view json_text) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return FaultInvalid("the body is not a JSON object");
  }
  // Reuse the general rule parser for status, count, delay and headers.
  json general = {{"pathPrefix", "/api/v1/env"}};
  for (const char* key : {"status", "count", "delayMs", "headers"}) {
    if (doc.contains(key)) general[key] = doc[key];
  }
  FaultRule rule;
  {
    absl::StatusOr<FaultRule> parsed = ParseFaultRule(general.dump());
    if (!parsed.ok()) return parsed.status();
    rule = *std::move(parsed);
  }
  rule.path_prefixes = {"/api/v1/env", "/api/v1/auth/node/"};
  json body = {
      {"errorCode", doc.value("errorCode", "login-error")},
      {"errorMsgKey", doc.value("errorMsgKey", "ErrInjected")},
      {"errorMessage", doc.value("errorMessage", "injected by the dev cloud")},
  };
  if (doc.contains("errorNonRetryable")) {
    if (!doc["errorNonRetryable"].is_boolean()) {
      return FaultInvalid("errorNonRetryable must be a boolean");
    }
    body["errorNonRetryable"] = doc["errorNonRetryable"];
  }
  if (doc.contains("errorRetryDelaySeconds")) {
    if (!doc["errorRetryDelaySeconds"].is_number_integer()) {
      return FaultInvalid("errorRetryDelaySeconds must be an integer");
    }
    body["errorRetryDelaySeconds"] = doc["errorRetryDelaySeconds"];
  }
  rule.answer.body = body;
  return rule;
}

void FaultInjector::Add(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(std::move(rule));
}

void FaultInjector::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

absl::optional<FaultRule> FaultInjector::Take(absl::string_view path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    bool matches = false;
    for (const std::string& prefix : it->path_prefixes) {
      matches |= absl::StartsWith(path, prefix);
    }
    if (!matches) continue;
    FaultRule taken = *it;
    if (--it->remaining <= 0) rules_.erase(it);
    return taken;
  }
  return absl::nullopt;
}

}  // namespace cloudlink::devcloud

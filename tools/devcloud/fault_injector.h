#pragma once

// Injected failures for tests: "the next N requests whose
// path starts with P get this answer, after this delay". Rules are tried in
// the order they were added; a rule is used up after `count` matches.

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "nlohmann/json.hpp"
#include "tools/devcloud/http_answer.h"

namespace cloudlink::devcloud {

struct FaultRule {
  std::vector<std::string> path_prefixes;  // any one matches
  int remaining = 1;
  absl::Duration delay = absl::ZeroDuration();
  HttpAnswer answer;
};

// Parses the body of POST /_dev/faults:
// {"pathPrefix":"/api/...","status":503,"count":2,"body":{...},
//  "delayMs":0,"headers":{"Retry-After":"3"}}. `pathPrefix` and `status`
// (100..599) are required; count defaults to 1 (at least 1), delayMs to 0
// (at most 120000). INVALID_ARGUMENT (FAULT_INVALID) otherwise.
absl::StatusOr<FaultRule> ParseFaultRule(absl::string_view json_text);

// Parses the body of POST /_dev/login-error: {"count":1,"status":503,
// "errorCode","errorMsgKey","errorMessage","errorNonRetryable":false,
// "errorRetryDelaySeconds":0,"headers":{...},"delayMs":0}. The rule answers
// the next `count` env/challenge/password calls (paths under /api/v1/env
// and /api/v1/auth/node/) with that status and the cloud's error
// body. `status` is required. INVALID_ARGUMENT (FAULT_INVALID) otherwise.
absl::StatusOr<FaultRule> ParseLoginErrorRule(absl::string_view json_text);

// Thread-safe.
class FaultInjector {
 public:
  void Add(FaultRule rule);
  void Clear();
  // The first live rule matching `path`, with its count decremented (removed
  // when it reaches 0); nullopt when none matches.
  absl::optional<FaultRule> Take(absl::string_view path);

 private:
  std::mutex mu_;
  std::vector<FaultRule> rules_;  // guarded by mu_
};

}  // namespace cloudlink::devcloud

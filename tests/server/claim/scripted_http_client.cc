#include "tests/server/claim/scripted_http_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/error.h"

namespace cloudlink::testing {

void ScriptedHttpClient::Respond(int status, std::string body) {
  http::HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  MutexLock lock(&mu_);
  script_.push_back(std::move(response));
}

void ScriptedHttpClient::Fail(absl::Status status) {
  MutexLock lock(&mu_);
  script_.push_back(std::move(status));
}

void ScriptedHttpClient::RespondTimes(int count, int status, std::string body) {
  for (int i = 0; i < count; ++i) Respond(status, body);
}

void ScriptedHttpClient::AnswerAlways(
    std::string url_part, absl::StatusOr<http::HttpResponse> answer) {
  MutexLock lock(&mu_);
  standing_.emplace_back(std::move(url_part), std::move(answer));
}

int ScriptedHttpClient::standing_count() const {
  MutexLock lock(&mu_);
  return standing_count_;
}

int ScriptedHttpClient::pending() const {
  MutexLock lock(&mu_);
  return static_cast<int>(script_.size());
}

std::vector<ScriptedHttpClient::Call> ScriptedHttpClient::calls() const {
  MutexLock lock(&mu_);
  return calls_;
}

int ScriptedHttpClient::call_count() const {
  MutexLock lock(&mu_);
  return static_cast<int>(calls_.size());
}

bool ScriptedHttpClient::WaitForCalls(int count, absl::Duration timeout) const {
  MutexLock lock(&mu_);
  auto enough = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int>(calls_.size()) >= count;
  };
  return mu_.AwaitWithTimeout(enough, timeout);
}

absl::StatusOr<http::HttpResponse> ScriptedHttpClient::Send(
    const http::HttpRequest& request, const http::TransportOptions& options) {
  MutexLock lock(&mu_);
  for (const auto& [url_part, answer] : standing_) {
    if (absl::StrContains(request.url, url_part)) {
      ++standing_count_;
      return answer;
    }
  }
  calls_.push_back(Call{request, options});
  if (script_.empty()) {
    return Error(absl::StatusCode::kInternal, reason::kConnectFailed,
                 absl::StrCat("the test scripted no answer for ",
                              request.method, " ", request.url));
  }
  absl::StatusOr<http::HttpResponse> answer = std::move(script_.front());
  script_.pop_front();
  return answer;
}

std::string HeaderValue(const http::HttpRequest& request,
                        const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

}  // namespace cloudlink::testing

#pragma once

// A scripted http::HttpClient for the parts above the HTTP seam (claimer,
// token regenerator, node controller): each Send records the request and
// returns the next scripted answer, so a test states exactly what the cloud
// says and checks exactly what was asked. Only this seam is faked; everything
// else in those tests is real.
//
// Thread-safe (the node controller sends from its worker thread).

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/mutex.h"
#include "server/http/http_client.h"

namespace cloudlink::testing {

class ScriptedHttpClient : public http::HttpClient {
 public:
  struct Call {
    http::HttpRequest request;
    http::TransportOptions options;
  };

  // Appends an answer: a response with `status` and `body`.
  void Respond(int status, std::string body = "");
  // Appends an answer: a transport failure.
  void Fail(absl::Status status);
  // Appends `count` copies of a response with `status`.
  void RespondTimes(int count, int status, std::string body = "");

  // Requests whose URL contains `url_part` get `answer` every time, outside
  // the script, and are counted apart (standing_count), not in calls(). For
  // traffic a test does not script, like the cloud link's env requests in
  // the node controller tests.
  void AnswerAlways(std::string url_part,
                    absl::StatusOr<http::HttpResponse> answer);
  int standing_count() const;

  // Answers scripted but not yet used.
  int pending() const;
  // Every request so far, in order.
  std::vector<Call> calls() const;
  int call_count() const;
  // Waits until at least `count` requests were made or `timeout` passed;
  // returns whether they were.
  bool WaitForCalls(int count, absl::Duration timeout) const;

  // Returns the next scripted answer. With the script used up it answers
  // INTERNAL CONNECT_FAILED "the test scripted no answer ..." (INTERNAL: not
  // retryable), so an unexpected request shows as a failure instead of a
  // retry loop.
  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request,
      const http::TransportOptions& options) override;

 private:
  mutable Mutex mu_;
  std::deque<absl::StatusOr<http::HttpResponse>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, absl::StatusOr<http::HttpResponse>>>
      standing_ ABSL_GUARDED_BY(mu_);
  int standing_count_ ABSL_GUARDED_BY(mu_) = 0;
};

// The value of header `name` (case-insensitive) in `request`, or "".
std::string HeaderValue(const http::HttpRequest& request,
                        const std::string& name);

}  // namespace cloudlink::testing

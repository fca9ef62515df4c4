#pragma once

// Claims the node: repeats the claim exchange with a fresh random claim id
// per attempt, up to 5 attempts, pausing 300 ms + 100 ms × attempt between
// them, and only after retryable results. Every failed
// attempt is logged on one "CLAIM:" line with the reason, URL and proxy
// (credentials redacted); the token never is.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/claim/claim_exchange.h"
#include "server/http/http_client.h"

namespace cloudlink::claim {

class Claimer {
 public:
  struct Options {
    int max_attempts = 5;
    absl::Duration pause_base = absl::Milliseconds(300);
    absl::Duration pause_step = absl::Milliseconds(100);
    // Waits between attempts; tests may replace it to record the pauses.
    std::function<void(absl::Duration)> pause = [](absl::Duration d) {
      absl::SleepFor(d);
    };
  };

  // `client` must outlive the Claimer.
  explicit Claimer(http::HttpClient* client) : Claimer(client, Options()) {}
  Claimer(http::HttpClient* client, Options options)
      : client_(client), options_(std::move(options)) {}

  // Returns the claim id the cloud accepted, or the last attempt's error
  // (see ClaimResponseStatus and HttpClient::Send for the reasons).
  absl::StatusOr<std::string> Claim(const ClaimParams& params);

 private:
  http::HttpClient* client_;
  Options options_;
};

}  // namespace cloudlink::claim

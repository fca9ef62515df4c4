// ClaimResponseStatus (server/claim/claim_exchange.h) over the cloud's answer
// to a claim.
//
// Input: bytes 0-1 the HTTP status (big-endian, modulo 1000), the rest the
// body. Checks: OK exactly for 204; every error has an UPPER_SNAKE reason
// and the code the header's table gives; IsRetryable exactly for
// UNAVAILABLE.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/claim/claim_exchange.h"
#include "server/common/error.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  http::HttpResponse response;
  response.status = in.Uint16() % 1000;
  response.body = in.Rest();
  const absl::Status status = claim::ClaimResponseStatus(response);
  FUZZ_CHECK(status.ok() == (response.status == 204), status.ToString());
  if (status.ok()) return;
  const std::string reason = ReasonOf(status);
  FUZZ_CHECK(!reason.empty(), "no reason: " + status.ToString());
  for (char c : reason) {
    FUZZ_CHECK(absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_',
               "reason not UPPER_SNAKE: " + status.ToString());
  }
  switch (response.status) {
    case 403:
      FUZZ_CHECK(status.code() == absl::StatusCode::kPermissionDenied &&
                     reason == "TOKEN_INVALID",
                 status.ToString());
      break;
    case 409:
      FUZZ_CHECK(status.code() == absl::StatusCode::kAlreadyExists &&
                     reason == "ALREADY_CLAIMED",
                 status.ToString());
      break;
    case 422:
      FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument,
                 status.ToString());
      break;
    default:
      FUZZ_CHECK(
          status.code() == absl::StatusCode::kUnavailable &&
              reason == "CLOUD_ERROR" &&
              absl::StartsWith(
                  status.message(),
                  "CLOUD_ERROR_" + std::to_string(response.status) + ": ") &&
              MetadataOf(status)["http_status"] ==
                  std::to_string(response.status),
          status.ToString());
  }
  FUZZ_CHECK(claim::IsRetryable(status) ==
                 (status.code() == absl::StatusCode::kUnavailable),
             "IsRetryable disagrees with the code");
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

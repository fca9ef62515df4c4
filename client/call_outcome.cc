#include "client/call_outcome.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

constexpr size_t kFailuresShown = 3;

}  // namespace

CallOutcome::CallOutcome(const google::protobuf::MethodDescriptor* method) {
  if (method->service()->full_name() != "cloudlink.v1.CloudLink") return;
  if (method->name() == "ReloadClaimingState") kind_ = Kind::kReload;
  if (method->name() == "Publish") kind_ = Kind::kPublish;
}

void CallOutcome::Observe(const google::protobuf::Message& response) {
  if (kind_ == Kind::kReload) {
    cloudlink::v1::State state;
    state.ParseFromString(response.SerializeAsString());
    if (!state.online()) {
      state_verdict_ = Error(
          absl::StatusCode::kFailedPrecondition, reason::kStateNotReached,
          absl::StrCat("the node is not online after the reload (status ",
                       state.status().empty() ? "unknown" : state.status(),
                       state.reason().empty() ? "" : ": ", state.reason(),
                       "); see get-state, or wait longer with "
                       "--wait-seconds"));
    } else if (!state.config_error().empty()) {
      state_verdict_ = Error(
          absl::StatusCode::kFailedPrecondition, reason::kStateNotReached,
          absl::StrCat("the node is online, but its claim configuration has "
                       "an error: ",
                       state.config_error()));
    } else {
      state_verdict_ = absl::OkStatus();
    }
    return;
  }
  if (kind_ == Kind::kPublish) {
    cloudlink::v1::PublishAck ack;
    ack.ParseFromString(response.SerializeAsString());
    ++acks_;
    if (ack.code() == 0) return;
    if (failed_ == 0) first_failed_code_ = ack.code();
    ++failed_;
    if (failures_.size() < kFailuresShown) {
      failures_.push_back(absl::StrCat("id ", ack.id(), ": ", ack.message()));
    }
  }
}

absl::Status CallOutcome::Verdict() const {
  if (kind_ == Kind::kReload) return state_verdict_;
  if (kind_ != Kind::kPublish || failed_ == 0) return absl::OkStatus();
  absl::StatusCode code = static_cast<absl::StatusCode>(first_failed_code_);
  if (code == absl::StatusCode::kOk || absl::StatusCodeToString(code).empty()) {
    code = absl::StatusCode::kUnknown;
  }
  return Error(
      code, reason::kPublishAcksFailed,
      absl::StrCat(
          failed_, " of ", acks_,
          acks_ == 1 ? " message was" : " messages were", " not accepted (",
          absl::StrJoin(failures_, "; "),
          failed_ > static_cast<int64_t>(failures_.size()) ? "; ..." : "",
          ")"));
}

}  // namespace cloudlink::client

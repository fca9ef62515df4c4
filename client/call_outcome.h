#pragma once

// Whether a call the daemon answered without error did what its command
// asked, for the exit code (cli.h):
//
//   reload-claiming-state  the returned State is online and has no
//                          config_error; otherwise FAILED_PRECONDITION
//                          STATE_NOT_REACHED (exit 4)
//   publish                every PublishAck has code 0; otherwise the first
//                          failed ack's code with reason PUBLISH_ACKS_FAILED
//                          (exit 5), counting the failed acks and naming the
//                          first few
//
// Other commands have no such condition.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace cloudlink::client {

class CallOutcome {
 public:
  explicit CallOutcome(const google::protobuf::MethodDescriptor* method);

  // Looks at one response of the call.
  void Observe(const google::protobuf::Message& response);

  // OK, or the error above. Its sentence may quote the daemon's messages.
  absl::Status Verdict() const;

 private:
  enum class Kind { kNone, kReload, kPublish };
  Kind kind_ = Kind::kNone;
  // kReload: the last State's verdict.
  absl::Status state_verdict_;
  // kPublish.
  int64_t acks_ = 0;
  int64_t failed_ = 0;
  int first_failed_code_ = 0;
  std::vector<std::string> failures_;  // the first few, "id N: MESSAGE"
};

}  // namespace cloudlink::client

#pragma once

// The requests of a client-streaming command given no flags: one JSON
// message a line on standard input (blank lines skipped).
//
// For Publish, the lines already read in or waiting in the pipe go out
// together as one batch request (at most 256 messages or about 1 MiB), so a
// fast producer pays one stream message per batch and a slow one waits for
// nothing. A line that is a batch itself is sent as read, after the batch
// being built; a bad line after a batch's first is reported after that
// batch.

#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace cloudlink::client {

class StdinRequests {
 public:
  // Reads `in` (which must outlive this); each line is parsed as a
  // `prototype` (an empty message of the method's input type).
  StdinRequests(std::istream* in,
                std::unique_ptr<google::protobuf::Message> prototype);

  // The next request; nullptr at the end of input. INVALID_ARGUMENT
  // BAD_REQUEST_LINE ("standard input line N is not a <type> in JSON") for a
  // line that does not parse.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Next();

  // The secret fields' values of every line read so far (secret_scrub.h),
  // for scrubbing error output.
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ReadLine();
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> NextBatch();

  std::istream* const in_;
  const std::unique_ptr<google::protobuf::Message> prototype_;
  const bool publish_;
  int line_number_ = 0;
  std::vector<std::string> secrets_;
  // Lines that were batches themselves, to send after the batch they ended.
  std::vector<std::unique_ptr<google::protobuf::Message>> pending_own_;
  absl::Status deferred_error_;  // a bad line after a batch's first
};

}  // namespace cloudlink::client

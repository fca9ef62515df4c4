#include "client/stdin_requests.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/publish_line.h"
#include "client/secret_scrub.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using google::protobuf::Message;

// How much of standard input one Publish request carries at most.
constexpr int kStdinBatchMessages = 256;
constexpr size_t kStdinBatchBytes = size_t{1} << 20;

}  // namespace

StdinRequests::StdinRequests(std::istream* in,
                             std::unique_ptr<Message> prototype)
    : in_(in),
      prototype_(std::move(prototype)),
      publish_(prototype_->GetDescriptor()->full_name() ==
               cloudlink::v1::PublishRequest::descriptor()->full_name()) {}

absl::StatusOr<std::unique_ptr<Message>> StdinRequests::ReadLine() {
  std::string line;
  while (std::getline(*in_, line)) {
    ++line_number_;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::unique_ptr<Message> next(prototype_->New());
    // The common Publish line skips protobuf's JSON parser (publish_line.h);
    // any other line goes to it.
    cloudlink::v1::PublishRequest simple;
    if (publish_ && ParseSimplePublishLine(line, &simple)) {
      next->ParseFromString(simple.SerializeAsString());
      CollectSecrets(*next, &secrets_);
      return next;
    }
    const auto status =
        google::protobuf::util::JsonStringToMessage(line, next.get());
    if (!status.ok()) {
      return Error(
          absl::StatusCode::kInvalidArgument, reason::kBadRequestLine,
          absl::StrCat("standard input line ", line_number_, " is not a ",
                       prototype_->GetDescriptor()->full_name(), " in JSON"));
    }
    CollectSecrets(*next, &secrets_);
    return next;
  }
  return std::unique_ptr<Message>();
}

absl::StatusOr<std::unique_ptr<Message>> StdinRequests::Next() {
  if (!pending_own_.empty()) {
    std::unique_ptr<Message> next = std::move(pending_own_.front());
    pending_own_.erase(pending_own_.begin());
    return next;
  }
  return NextBatch();
}

absl::StatusOr<std::unique_ptr<Message>> StdinRequests::NextBatch() {
  if (!deferred_error_.ok()) return deferred_error_;
  absl::StatusOr<std::unique_ptr<Message>> first = ReadLine();
  if (!publish_ || !first.ok() || *first == nullptr) return first;
  cloudlink::v1::PublishRequest batch;
  size_t bytes = 0;
  auto add = [&](const Message& line) {
    cloudlink::v1::PublishRequest one;
    one.ParseFromString(line.SerializeAsString());
    if (one.batch_size() > 0) return false;  // a batch of its own
    cloudlink::v1::PublishMessage* m = batch.add_batch();
    m->set_id(one.id());
    m->set_allocated_topic(one.release_topic());
    m->set_allocated_payload(one.release_payload());
    m->set_level(one.level());
    m->set_wait_when_full(one.wait_when_full());
    bytes += m->topic().size() + m->payload().size();
    return true;
  };
  if (!add(**first)) return first;
  std::vector<std::unique_ptr<Message>> own;  // lines that are batches
  while (batch.batch_size() < kStdinBatchMessages && bytes < kStdinBatchBytes &&
         in_->rdbuf()->in_avail() > 0) {
    absl::StatusOr<std::unique_ptr<Message>> next = ReadLine();
    if (!next.ok()) {
      deferred_error_ = next.status();
      break;
    }
    if (*next == nullptr) break;
    if (!add(**next)) {
      own.push_back(*std::move(next));
      break;
    }
  }
  if (batch.batch_size() == 1 && own.empty()) return first;
  // A line that was a batch itself is sent as read, after this batch.
  pending_own_.insert(pending_own_.end(), std::make_move_iterator(own.begin()),
                      std::make_move_iterator(own.end()));
  std::unique_ptr<Message> out(prototype_->New());
  out->ParseFromString(batch.SerializeAsString());
  return out;
}

}  // namespace cloudlink::client

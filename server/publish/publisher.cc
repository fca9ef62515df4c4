#include "server/publish/publisher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/utf8.h"

namespace cloudlink::publish {

std::string QuotedInput(absl::string_view input) {
  if (input.size() <= kMaxQuotedInput) return std::string(input);
  return absl::StrCat(Utf8Prefix(input, kMaxQuotedInput), "... (", input.size(),
                      " bytes)");
}

bool Publisher::AttachSpool(Spool* spool) {
  Spool* none = nullptr;
  return spool != nullptr &&
         spool_.compare_exchange_strong(none, spool, std::memory_order_acq_rel);
}

bool Publisher::AttachInputLoop(LendableLoop* loop) {
  LendableLoop* none = nullptr;
  return loop != nullptr && input_loop_.compare_exchange_strong(
                                none, loop, std::memory_order_acq_rel);
}

absl::Status Publisher::TryPublish(PublishArgs& args, Completion& done) {
  absl::Status known = CheckTopic(args.topic);
  if (!known.ok()) return known;
  if (args.level == DeliveryLevel::kDurable) {
    Spool* const spool = this->spool();
    if (spool == nullptr) return SpoolUnavailable();
    return spool->TryAppend(args.topic, args.payload, done);
  }
  Message message;
  message.topic = std::move(args.topic);
  message.payload = std::move(args.payload);
  message.level = args.level;
  message.deadline = args.delivery_deadline;
  message.done = std::move(done);
  absl::Status pushed = queue_->TryPush(message);
  if (!pushed.ok()) {
    args.topic = std::move(message.topic);
    args.payload = std::move(message.payload);
    done = std::move(message.done);
  }
  return pushed;
}

absl::Status Publisher::Publish(PublishArgs args, Completion done) {
  absl::Status known = CheckTopic(args.topic);
  if (!known.ok()) return known;
  if (args.level == DeliveryLevel::kDurable) {
    Spool* const spool = this->spool();
    if (spool == nullptr) return SpoolUnavailable();
    return spool->Append(std::move(args.topic), std::move(args.payload),
                         std::move(done), args.wait_when_full,
                         args.wait_deadline, args.cancelled);
  }
  Message message;
  message.topic = std::move(args.topic);
  message.payload = std::move(args.payload);
  message.level = args.level;
  message.deadline = args.delivery_deadline;
  message.done = std::move(done);
  return queue_->Push(std::move(message), args.wait_when_full,
                      args.wait_deadline, args.cancelled);
}

absl::Status Publisher::CheckTopic(const std::string& topic) const {
  if (TopicKnown(topic)) return absl::OkStatus();
  return Error(absl::StatusCode::kInvalidArgument, reason::kTopicUnknown,
               absl::StrCat("\"", QuotedInput(topic),
                            "\" is not a topic name of the cloud's topic "
                            "map (for example node-instance-info)"));
}

absl::Status Publisher::SpoolUnavailable() {
  return Error(absl::StatusCode::kFailedPrecondition, reason::kSpoolUnavailable,
               "the durable spool is not open; see the daemon's log");
}

void Publisher::SetTopicNames(const std::vector<std::string>& names) {
  MutexLock lock(&mu_);
  names_known_ = true;
  names_ = std::set<std::string>(names.begin(), names.end());
}

bool Publisher::TopicKnown(const std::string& name) const {
  if (name.empty()) return false;
  MutexLock lock(&mu_);
  return !names_known_ || names_.count(name) > 0;
}

}  // namespace cloudlink::publish

#include "server/publish/publish_queue.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/publish/room_wait.h"

namespace cloudlink::publish {
namespace {

absl::Status ShuttingDown() {
  return Error(absl::StatusCode::kUnavailable, reason::kShuttingDown,
               "cloudlinkd is stopping; the message was not sent");
}

}  // namespace

void QueueOptions::ReleaseFreeMemory() { malloc_trim(0); }

PublishQueue::PublishQueue(QueueOptions options, Clock* clock)
    : options_(options), clock_(clock) {}

PublishQueue::~PublishQueue() { Close(); }

void PublishQueue::SetWakeCallback(std::function<void()> wake) {
  MutexLock lock(&wake_mu_);
  wake_ = std::move(wake);
}

absl::Status PublishQueue::Push(Message message, bool wait,
                                MonotonicTime wait_deadline,
                                const std::function<bool()>& cancelled) {
  return PushImpl(message, wait, /*count_full=*/true, wait_deadline, cancelled);
}

absl::Status PublishQueue::TryPush(Message& message) {
  return PushImpl(message, /*wait=*/false, /*count_full=*/false,
                  MonotonicTime::InfiniteFuture(), nullptr);
}

absl::Status PublishQueue::PushImpl(Message& message, bool wait,
                                    bool count_full,
                                    MonotonicTime wait_deadline,
                                    const std::function<bool()>& cancelled) {
  const size_t size = message.size();
  {
    MutexLock lock(&mu_);
    if (closed_) return ShuttingDown();
    if (size > options_.max_bytes) {
      ++stats_.rejected;
      return Error(absl::StatusCode::kInvalidArgument, reason::kMessageTooLarge,
                   absl::StrCat("the message has ", size,
                                " bytes; the publish queue holds at most ",
                                options_.max_bytes));
    }
    auto has_room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || (bytes_ + size <= options_.max_bytes &&
                         messages_.size() < options_.max_messages);
    };
    if (!has_room()) {
      if (!wait) {
        if (count_full) ++stats_.rejected;
        return Error(absl::StatusCode::kResourceExhausted, reason::kQueueFull,
                     absl::StrCat("the publish queue is full (",
                                  messages_.size(), " messages, ", bytes_,
                                  " bytes); retry later or wait when full"));
      }
      if (!WaitForRoom(mu_, has_room, clock_, wait_deadline, cancelled)) {
        ++stats_.wait_timed_out;
        return Error(absl::StatusCode::kDeadlineExceeded,
                     reason::kQueueWaitTimeout,
                     "the publish queue stayed full until the caller's "
                     "deadline or cancellation");
      }
      if (closed_) return ShuttingDown();
    }
    message.enqueued = clock_->MonotonicNow();
    bytes_ += size;
    messages_.push_back(std::move(message));
    ++stats_.pushed;
  }
  MutexLock lock(&wake_mu_);
  if (wake_) wake_();
  return absl::OkStatus();
}

std::vector<Message> PublishQueue::TakeBatch(size_t max_messages,
                                             size_t max_bytes) {
  std::vector<Message> batch;
  MutexLock lock(&mu_);
  size_t bytes = 0;
  while (!messages_.empty() && batch.size() < max_messages) {
    const size_t size = messages_.front().size();
    if (!batch.empty() && bytes + size > max_bytes) break;
    bytes += size;
    bytes_ -= size;
    batch.push_back(std::move(messages_.front()));
    messages_.pop_front();
  }
  stats_.taken += batch.size();
  taken_since_release_ += bytes;
  return batch;
}

bool PublishQueue::ReleaseMemoryIfDue() {
  {
    MutexLock lock(&mu_);
    if (!messages_.empty() || options_.release_memory == nullptr ||
        taken_since_release_ < options_.release_after_bytes) {
      return false;
    }
    taken_since_release_ = 0;
  }
  options_.release_memory();
  return true;
}

void PublishQueue::Close() {
  std::deque<Message> left;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    left.swap(messages_);
    bytes_ = 0;
  }
  const absl::Status why = ShuttingDown();
  for (Message& message : left) {
    if (message.done) message.done(why);
  }
}

size_t PublishQueue::FailAll(const absl::Status& why) {
  std::deque<Message> left;
  {
    MutexLock lock(&mu_);
    left.swap(messages_);
    bytes_ = 0;
  }
  for (Message& message : left) {
    if (message.done) message.done(why);
  }
  return left.size();
}

QueueStats PublishQueue::stats() const {
  MutexLock lock(&mu_);
  QueueStats stats = stats_;
  stats.queued = messages_.size();
  stats.queued_bytes = bytes_;
  return stats;
}

bool PublishQueue::empty() const {
  MutexLock lock(&mu_);
  return messages_.empty();
}

}  // namespace cloudlink::publish

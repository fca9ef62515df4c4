#include "client/ack_book.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cloudlink::client {

std::vector<ProducerAck> AcksOf(const cloudlink::v1::PublishAck& ack) {
  auto status_of = [](int32_t code, const std::string& message) {
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  };
  std::vector<ProducerAck> acks;
  if (ack.ok_ids_size() == 0 && ack.failed_size() == 0) {
    acks.push_back({ack.id(), status_of(ack.code(), ack.message())});
    return acks;
  }
  acks.reserve(ack.ok_ids_size() + ack.failed_size());
  for (uint64_t id : ack.ok_ids()) acks.push_back({id, absl::OkStatus()});
  for (const cloudlink::v1::PublishFailure& f : ack.failed()) {
    acks.push_back({f.id(), status_of(f.code(), f.message())});
  }
  return acks;
}

AckBook::AckBook(size_t window, Delivery delivery)
    : window_(window), delivery_(delivery) {}

uint64_t AckBook::Add() {
  const uint64_t id = next_id_++;
  ids_.insert(id);
  if (ids_.size() >= window_) refilling_ = true;
  return id;
}

absl::Status AckBook::AwaitRoom(Mutex* mu, absl::FunctionRef<bool()> stop,
                                absl::Duration timeout) const {
  auto room = [&] {
    return ended_ || stop() || (!refilling_ && ids_.size() < window_);
  };
  if (mu->AwaitWithTimeout(room, timeout)) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      "the window of ", window_,
      " outstanding messages filled up and has room again once ",
      std::max<size_t>(1, window_ / 4), " of them are acknowledged; that did ",
      "not happen within ", absl::FormatDuration(timeout)));
}

std::vector<ProducerAck> AckBook::Settle(std::vector<ProducerAck> acks) {
  for (const ProducerAck& ack : acks) ids_.erase(ack.id);
  // A full window has room again once a quarter of it is free (at least
  // one id).
  if (refilling_ && ids_.size() + std::max<size_t>(1, window_ / 4) <= window_)
    refilling_ = false;
  if (delivery_ == Delivery::kReturn) return acks;
  untaken_.insert(untaken_.end(), std::make_move_iterator(acks.begin()),
                  std::make_move_iterator(acks.end()));
  return {};
}

std::vector<ProducerAck> AckBook::Take() {
  std::vector<ProducerAck> acks;
  acks.swap(untaken_);
  return acks;
}

std::vector<ProducerAck> AckBook::End(const absl::Status& each) {
  ended_ = true;
  std::vector<uint64_t> ids(ids_.begin(), ids_.end());
  std::sort(ids.begin(), ids.end());
  std::vector<ProducerAck> failed;
  failed.reserve(ids.size());
  for (uint64_t id : ids) failed.push_back({id, each});
  return Settle(std::move(failed));
}

}  // namespace cloudlink::client

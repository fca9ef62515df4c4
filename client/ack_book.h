#pragma once

// AckBook: the acknowledgement bookkeeping of a Producer stream (producer.h),
// kept once for both of them (the gRPC stream in producer.cc, the publish
// socket in producer_socket.cc): the ids sent and not yet acknowledged, the
// window they may fill, the acks not yet taken, and the failure of every
// outstanding id when the stream ends. Private to the producer library; the
// header is exported for its tests only.
//
// Not thread-safe, by design: the owning stream guards its AckBook with the
// Mutex that guards its transport state (ABSL_GUARDED_BY), so that "the
// window has room and the stream is still open, so this id is added" and
// "the stream ended, so every outstanding id fails" are each one critical
// section, and it waits on that Mutex's conditions (AwaitRoom). Acks meant
// for an on_ack callback are returned to the owner, which calls the callback
// once its lock is released.

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/producer.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/common/mutex.h"

namespace cloudlink::client {

// One ProducerAck per message the PublishAck answers: a single-message ack
// (id, code, message) or a batch ack (ok_ids, then failed).
std::vector<ProducerAck> AcksOf(const cloudlink::v1::PublishAck& ack);

class AckBook {
 public:
  // Where settled acks go.
  enum class Delivery {
    kTake,    // kept, in order, until Take() (the stream has no on_ack)
    kReturn,  // returned by Settle()/End(), for the owner's on_ack
  };

  // `window`: at most this many ids outstanding before AwaitRoom waits.
  AckBook(size_t window, Delivery delivery);
  AckBook(const AckBook&) = delete;
  AckBook& operator=(const AckBook&) = delete;

  // Makes the next id (1, 2, 3, ...) outstanding and returns it. Only
  // before End(); the window is the caller's to respect (AwaitRoom).
  uint64_t Add();

  // Ids added and not yet settled.
  size_t outstanding() const { return ids_.size(); }

  // Blocks on the owner's `mu` (held on entry and on return, released while
  // waiting) until there is room, End() was called, or `stop()` holds; for
  // at most `timeout`. There is room while fewer than `window` ids are
  // outstanding, except that once the window filled up it has room again
  // only when a quarter of it is free (at least one id: with a window under
  // 8, when one is). A producer faster than its acks so wakes once per
  // batch of acks and writes batches, not one message per ack. Returns OK
  // when one of them holds (the owner then checks its stop state and
  // ended() before Add()), DEADLINE_EXCEEDED naming the window when none
  // held in time. `stop` runs with `mu` held, also on other threads, and
  // must only read state `mu` guards.
  absl::Status AwaitRoom(Mutex* mu, absl::FunctionRef<bool()> stop,
                         absl::Duration timeout) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // Settles `acks`: their ids are no longer outstanding, which frees their
  // room in the window. An ack whose id is not outstanding (unknown, or
  // settled before) is passed on all the same. kTake: the acks wait for
  // Take() and the result is empty. kReturn: the result is `acks`, for the
  // owner to hand to on_ack once its lock is released.
  std::vector<ProducerAck> Settle(std::vector<ProducerAck> acks);

  // The acks settled since the last call, in the order they were settled
  // (kTake; always empty with kReturn).
  std::vector<ProducerAck> Take();

  // The stream ended: every outstanding id is settled with `each`, in id
  // order, and Add() may no longer be called. Returns as Settle(). Only the
  // first call fails anything: later calls settle nothing.
  std::vector<ProducerAck> End(const absl::Status& each);
  bool ended() const { return ended_; }

 private:
  const size_t window_;
  const Delivery delivery_;
  uint64_t next_id_ = 1;
  std::unordered_set<uint64_t> ids_;  // outstanding
  // The window filled up and a quarter of it is not yet free (AwaitRoom).
  bool refilling_ = false;
  std::vector<ProducerAck> untaken_;  // kTake
  bool ended_ = false;
};

}  // namespace cloudlink::client

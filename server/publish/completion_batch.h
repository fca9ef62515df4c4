#pragma once

// Groups the outcomes a thread produces during one pass of its loop, so
// that each consumer takes them all at once: one lock and one wake-up per
// consumer and pass instead of one per message.
//
// The link thread opens a CompletionBatch around each pass of its loop.
// A completion that runs inside it (a PUBACK, a QoS 0 hand-over, a
// deadline) and whose consumer is an OutcomeSink offers its outcome with
// CompletionBatch::Hold(); the outcomes are handed to their sinks when the
// batch closes, in the order they were held. Without an open batch, Hold()
// returns false and the caller delivers the outcome itself.
//
// Thread-safety: a batch belongs to the thread that opened it (it is found
// through a thread-local); sinks are called on that thread.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace cloudlink::publish {

struct Outcome {
  uint64_t id = 0;
  absl::Status status;
  uint32_t tag = 0;  // the sink's own marker, passed through
};

// Takes the outcomes held for it, once per closing batch.
class OutcomeSink {
 public:
  virtual ~OutcomeSink() = default;
  virtual void TakeOutcomes(std::vector<Outcome>& outcomes) = 0;
};

class CompletionBatch {
 public:
  // Opens a batch on this thread; a batch opened while another is open on
  // the same thread joins it (only the outermost delivers).
  CompletionBatch();
  // Delivers every held outcome to its sink.
  ~CompletionBatch();
  CompletionBatch(const CompletionBatch&) = delete;
  CompletionBatch& operator=(const CompletionBatch&) = delete;

  // Holds `outcome` for `sink` when a batch is open on this thread and
  // returns true; returns false (holding nothing) otherwise.
  static bool Hold(const std::shared_ptr<OutcomeSink>& sink, Outcome outcome);

 private:
  bool outermost_;
  std::vector<std::pair<std::shared_ptr<OutcomeSink>, std::vector<Outcome>>>
      held_;
};

}  // namespace cloudlink::publish

#include "server/publish/completion_batch.h"

namespace cloudlink::publish {
namespace {

thread_local CompletionBatch* current = nullptr;

}  // namespace

CompletionBatch::CompletionBatch() : outermost_(current == nullptr) {
  if (outermost_) current = this;
}

CompletionBatch::~CompletionBatch() {
  if (!outermost_) return;
  // A sink may complete more messages while it takes its outcomes; those
  // are delivered directly, as after the batch.
  current = nullptr;
  for (auto& entry : held_) entry.first->TakeOutcomes(entry.second);
}

bool CompletionBatch::Hold(const std::shared_ptr<OutcomeSink>& sink,
                           Outcome outcome) {
  CompletionBatch* batch = current;
  if (batch == nullptr) return false;
  // A pass usually serves one or a few streams: a short linear search from
  // the most recent sink beats a map.
  for (auto it = batch->held_.rbegin(); it != batch->held_.rend(); ++it) {
    if (it->first == sink) {
      it->second.push_back(std::move(outcome));
      return true;
    }
  }
  batch->held_.emplace_back(sink, std::vector<Outcome>());
  batch->held_.back().second.push_back(std::move(outcome));
  return true;
}

}  // namespace cloudlink::publish

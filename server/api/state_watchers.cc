#include "server/api/state_watchers.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/state_proto.h"
#include "server/common/log.h"
#include "server/common/thread_start.h"

namespace cloudlink::api {
namespace {

// While streams are open: how long the thread waits for a change before it
// looks at them again (to notice Shutdown and streams that ended).
constexpr absl::Duration kIdleWait = absl::Milliseconds(500);

class Refusal : public grpc::ServerWriteReactor<cloudlink::v1::State> {
 public:
  explicit Refusal(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

// One stream. StartWrite and Finish are called without StateWatchers::mu_
// held (gRPC may run a reaction inline), after the decision was taken under
// it: `writing` marks a write started or about to start, and Finish is only
// called while no write is outstanding, so OnDone (which deletes the
// watcher) cannot come while another thread is about to touch it.
class StateWatchers::Watcher
    : public grpc::ServerWriteReactor<cloudlink::v1::State> {
 public:
  Watcher(StateWatchers* owner, std::unique_ptr<StreamLimits::Lease> lease)
      : owner_(owner), lease_(std::move(lease)) {}

  void OnWriteDone(bool ok) override {
    bool write = false;
    bool finish = false;
    {
      MutexLock lock(&owner_->mu_);
      writing = false;
      if (!ok || end_requested) {
        end_requested = true;
        finish = !finished;
        finished = true;
      } else {
        write = owner_->DueLocked(this, RealClock()->MonotonicNow());
      }
    }
    if (write) StartWrite(&message);
    if (finish) Finish(grpc::Status::OK);
  }

  void OnCancel() override { End(); }

  void OnDone() override {
    owner_->Remove(this);
    delete this;
  }

  // Finishes the stream (OK) once no write is outstanding.
  void End() {
    bool finish = false;
    {
      MutexLock lock(&owner_->mu_);
      end_requested = true;
      if (!writing && !finished) finish = finished = true;
    }
    if (finish) Finish(grpc::Status::OK);
  }

  // Guarded by owner_->mu_.
  cloudlink::v1::State message;
  uint64_t version_sent = 0;
  MonotonicTime last_write = MonotonicTime::InfinitePast();
  bool writing = false;
  bool end_requested = false;
  bool finished = false;

 private:
  StateWatchers* const owner_;
  const std::unique_ptr<StreamLimits::Lease> lease_;
};

StateWatchers::StateWatchers(node::NodeController* node,
                             absl::Duration min_interval)
    : node_(node), min_interval_(min_interval) {
  auto [state, version] = node_->GetState();
  ToProto(state, &latest_);
  latest_version_ = version;
  absl::StatusOr<std::thread> thread = StartThread([this] { Run(); });
  if (thread.ok()) {
    thread_ = *std::move(thread);
  } else {
    LogError(absl::StrCat("API: WatchState is unavailable: ",
                          thread.status().message()));
    MutexLock lock(&mu_);
    stopping_ = true;  // Add() then ends each stream at once
  }
}

StateWatchers::~StateWatchers() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

grpc::ServerWriteReactor<cloudlink::v1::State>* StateWatchers::Add(
    std::unique_ptr<StreamLimits::Lease> lease) {
  auto* w = new Watcher(this, std::move(lease));
  // The thread follows the state only while streams are open: the newest
  // comes from the node.
  auto [state, version] = node_->GetState();
  bool refuse = false;
  {
    MutexLock lock(&mu_);
    if (version > latest_version_) {
      ToProto(state, &latest_);
      latest_version_ = version;
    }
    if (stopping_) {
      refuse = w->finished = true;
    } else {
      watchers_.insert(w);
      // The first State at once, whatever min_interval says.
      w->message = latest_;
      w->version_sent = latest_version_;
      w->last_write = RealClock()->MonotonicNow();
      w->writing = true;
    }
  }
  if (refuse) {
    w->Finish(grpc::Status::OK);
  } else {
    w->StartWrite(&w->message);
  }
  return w;
}

grpc::ServerWriteReactor<cloudlink::v1::State>* StateWatchers::Refuse(
    grpc::Status status) {
  return new Refusal(std::move(status));
}

bool StateWatchers::DueLocked(Watcher* w, MonotonicTime now) {
  if (w->writing || w->end_requested || w->finished ||
      w->version_sent >= latest_version_ ||
      now - w->last_write < min_interval_) {
    return false;
  }
  w->message = latest_;
  w->version_sent = latest_version_;
  w->last_write = now;
  w->writing = true;
  return true;
}

void StateWatchers::Remove(Watcher* w) {
  MutexLock lock(&mu_);
  watchers_.erase(w);
}

void StateWatchers::Run() {
  while (true) {
    uint64_t seen = 0;
    absl::Duration rest = absl::ZeroDuration();
    {
      MutexLock lock(&mu_);
      // No stream: nothing to follow. Sleep until Add() or Shutdown(); Add
      // reads the state itself.
      mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !watchers_.empty();
      });
      if (stopping_) return;
      // A stream still behind makes the wait below return at once.
      seen = latest_version_;
      for (const Watcher* w : watchers_) {
        if (!w->writing && !w->end_requested && !w->finished) {
          seen = std::min(seen, w->version_sent);
        }
      }
      rest = RestLocked(RealClock()->MonotonicNow());
    }
    if (rest > absl::ZeroDuration()) {
      // No stream may get a State before then: changes meanwhile are only
      // counted, not followed one by one.
      MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(&stopping_, std::min(rest, kIdleWait));
      ++wakeups_;
      continue;
    }
    auto [state, version] = node_->WaitForStateChange(seen, kIdleWait);
    std::vector<Watcher*> due;
    {
      MutexLock lock(&mu_);
      ++wakeups_;
      if (stopping_) return;
      if (version > latest_version_) {
        ToProto(state, &latest_);
        latest_version_ = version;
      }
      const MonotonicTime now = RealClock()->MonotonicNow();
      for (Watcher* w : watchers_) {
        if (DueLocked(w, now)) due.push_back(w);
      }
    }
    // Safe without the lock: a watcher with a write pending is not
    // finished, so it is not deleted (see Watcher).
    for (Watcher* w : due) w->StartWrite(&w->message);
  }
}

absl::Duration StateWatchers::RestLocked(MonotonicTime now) const {
  absl::Duration rest = min_interval_;  // every stream is writing
  for (const Watcher* w : watchers_) {
    if (w->writing || w->end_requested || w->finished) continue;
    // A stream that is behind is due at last_write + min_interval.
    rest = std::min(rest, w->last_write + min_interval_ - now);
  }
  return std::max(rest, absl::ZeroDuration());
}

uint64_t StateWatchers::wakeups() const {
  MutexLock lock(&mu_);
  return wakeups_;
}

void StateWatchers::Shutdown() {
  std::vector<Watcher*> all;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    all.assign(watchers_.begin(), watchers_.end());
  }
  // A watcher may end (and be deleted) between the copy and End(): End()
  // is only called on the ones still registered.
  for (Watcher* w : all) {
    bool finish = false;
    {
      MutexLock lock(&mu_);
      if (watchers_.count(w) == 0) continue;
      w->end_requested = true;
      if (!w->writing && !w->finished) finish = w->finished = true;
    }
    if (finish) w->Finish(grpc::Status::OK);
  }
}

size_t StateWatchers::size() const {
  MutexLock lock(&mu_);
  return watchers_.size();
}

}  // namespace cloudlink::api

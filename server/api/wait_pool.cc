#include "server/api/wait_pool.h"

#include <system_error>
#include <utility>

namespace cloudlink::api {

WaitPool::WaitPool(size_t max_kept_threads) : max_kept_(max_kept_threads) {}

WaitPool::~WaitPool() {
  std::vector<std::thread> kept;
  {
    MutexLock lock(&mu_);
    stop_ = true;
    kept.swap(kept_);
  }
  for (std::thread& thread : kept) thread.join();
}

bool WaitPool::Run(std::function<void()> job) {
  MutexLock lock(&mu_);
  if (parked_ > jobs_.size()) {
    // A parked thread takes it (the unlock wakes it).
    jobs_.push_back(std::move(job));
    return true;
  }
  try {
    if (kept_.size() < max_kept_) {
      kept_.emplace_back(&WaitPool::Loop, this, std::move(job));
    } else {
      std::thread(std::move(job)).detach();
    }
  } catch (const std::system_error&) {
    return false;
  }
  ++started_;
  return true;
}

void WaitPool::Loop(std::function<void()> first) {
  std::function<void()> job = std::move(first);
  while (true) {
    job();
    job = nullptr;
    MutexLock lock(&mu_);
    ++parked_;
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || !jobs_.empty();
    });
    --parked_;
    if (jobs_.empty()) return;  // stopping
    job = std::move(jobs_.front());
    jobs_.pop_front();
  }
}

uint64_t WaitPool::threads_started() const {
  MutexLock lock(&mu_);
  return started_;
}

size_t WaitPool::parked() const {
  MutexLock lock(&mu_);
  return parked_;
}

}  // namespace cloudlink::api

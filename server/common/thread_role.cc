#include "server/common/thread_role.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace cloudlink {
namespace {

std::string Describe(std::thread::id id) {
  if (id == std::thread::id()) return "no thread";
  std::ostringstream out;
  out << "thread " << id;
  return out.str();
}

// Debug builds only: a role used from the wrong thread is a bug to stop at,
// while the stack still shows who did it.
void Fail(const char* role, const char* what, std::thread::id holder) {
#ifndef NDEBUG
  std::fprintf(stderr,
               "FATAL: thread role \"%s\": %s %s, but it is held by %s\n", role,
               Describe(std::this_thread::get_id()).c_str(), what,
               Describe(holder).c_str());
  std::abort();
#else
  (void)role;
  (void)what;
  (void)holder;
#endif
}

}  // namespace

void ThreadRole::Enter() {
  std::thread::id none;
  if (!holder_.compare_exchange_strong(none, std::this_thread::get_id(),
                                       std::memory_order_acquire)) {
    Fail(name_, "entered it", none);
  }
}

void ThreadRole::Exit() {
  std::thread::id self = std::this_thread::get_id();
  if (!holder_.compare_exchange_strong(self, std::thread::id(),
                                       std::memory_order_release)) {
    Fail(name_, "exited it", self);
  }
}

void ThreadRole::AssertHeld() const {
  const std::thread::id holder = holder_.load(std::memory_order_relaxed);
  if (holder != std::this_thread::get_id()) {
    Fail(name_, "asserted it", holder);
  }
}

bool ThreadRole::HeldByCallingThread() const {
  return holder_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

}  // namespace cloudlink

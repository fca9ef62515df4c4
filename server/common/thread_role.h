#pragma once

// ThreadRole: a capability for state and code that belong to one thread at a
// time (a writer thread's files, a worker's scratch state), so that clang's
// thread-safety analysis (--config=tsa) checks "this thread only" as it
// checks locks: members are ABSL_GUARDED_BY(role_), functions
// ABSL_EXCLUSIVE_LOCKS_REQUIRED(role_), and only code that entered the role
// (ThreadRoleScope) or asserted it (AssertHeld) may use them.
//
// A role never blocks: a second thread entering a role another holds is a
// bug, not a wait. Every build records the holder's thread id; debug builds
// (no NDEBUG) abort, naming the role and the threads, when a thread enters a
// role someone holds, exits one it does not hold, or asserts one it does not
// hold. Release builds check nothing; the analysis costs nothing at run time.
//
// Thread-safe. Not reentrant.

#include <atomic>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace cloudlink {

class ABSL_LOCKABLE ThreadRole {
 public:
  // `name` (a string literal, e.g. "spool writer") appears in the abort
  // message.
  explicit ThreadRole(const char* name) : name_(name) {}
  ThreadRole(const ThreadRole&) = delete;
  ThreadRole& operator=(const ThreadRole&) = delete;

  // The calling thread takes the role, until Exit(). Prefer ThreadRoleScope.
  void Enter() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  // The calling thread gives the role up.
  void Exit() ABSL_UNLOCK_FUNCTION();

  // Tells the analysis the calling thread holds the role, for code it cannot
  // follow there (a callback the owning thread runs); debug builds abort
  // when the calling thread does not hold it.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK();

  // Whether the calling thread holds the role now.
  bool HeldByCallingThread() const;

  const char* name() const { return name_; }

 private:
  const char* const name_;
  // The holder; a default-constructed id (no thread) when nobody holds it.
  std::atomic<std::thread::id> holder_{std::thread::id()};
};

// Holds a ThreadRole for its scope.
class ABSL_SCOPED_LOCKABLE ThreadRoleScope {
 public:
  explicit ThreadRoleScope(ThreadRole* role) ABSL_EXCLUSIVE_LOCK_FUNCTION(role)
      : role_(role) {
    role_->Enter();
  }
  ThreadRoleScope(const ThreadRoleScope&) = delete;
  ThreadRoleScope& operator=(const ThreadRoleScope&) = delete;
  ~ThreadRoleScope() ABSL_UNLOCK_FUNCTION() { role_->Exit(); }

 private:
  ThreadRole* const role_;
};

}  // namespace cloudlink

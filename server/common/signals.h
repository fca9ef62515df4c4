#pragma once

// Process signals taken synchronously, by a thread that waits for them,
// instead of by handlers: the daemon and the dev cloud block their stop (and
// reload) signals before any thread starts, so every thread inherits the
// mask and only the waiter sees them. SIGPIPE (a peer gone mid-write) is
// ignored: the write's EPIPE is handled where it happens.

#include <signal.h>

#include <initializer_list>

#include "absl/time/time.h"

namespace cloudlink {

class BlockedSignals {
 public:
  // Blocks `signals` in the calling thread, and so in every thread it starts
  // afterwards (call it in main before any thread starts), and ignores
  // SIGPIPE for the whole process. The mask is left in place when this is
  // destroyed.
  explicit BlockedSignals(std::initializer_list<int> signals);

  // Takes the next of the signals, waiting at most `timeout`; returns its
  // number, or 0 when the timeout passed first. Interruptions by other
  // signals are retried. Thread-safe.
  int Wait(absl::Duration timeout = absl::InfiniteDuration()) const;

 private:
  sigset_t set_;
};

}  // namespace cloudlink

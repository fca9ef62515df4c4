#pragma once

// LendableLoop: an event loop, served by a thread of its own, that its
// thread can lend to another thread's loop for a while. The borrower
// watches one descriptor in its own poll set and runs the lent loop's turns
// itself, so that work arriving on the lent loop and the work it causes on
// the borrower's take one thread wake-up instead of two.
//
// cloudlinkd lends the publish socket's loop (publish_socket/server.h) to
// the link thread while a connection to the cloud is open
// (link/connection.h): a producer's message is then read and sent to the
// broker by the same thread, on the same wake-up.
//
//   int fd = loop->Borrow();          // -1: not now (stopping, or lent)
//   ... poll fd for input, and wake by deadline():
//   if (!loop->Serve()) { loop->GiveBack(); ... stop watching fd }
//   ...
//   loop->GiveBack();                 // the loop's own thread resumes
//
// Thread-safety: Borrow() and GiveBack() from any thread, one borrower at a
// time; Serve() and deadline() only by the borrower, between the two.

#include "server/common/clock.h"

namespace cloudlink {

class LendableLoop {
 public:
  virtual ~LendableLoop() = default;
  // Takes the loop from its own thread, waiting until that thread has
  // finished its current turn and stopped. Returns the descriptor to watch
  // for input (owned by the loop: the borrower must stop watching it before
  // GiveBack()), or -1 when the loop cannot be lent (it is stopping or is
  // lent already).
  virtual int Borrow() = 0;
  // One turn of the loop's work, without blocking: run it when the
  // descriptor is readable and once deadline() has passed. Returns false
  // when the loop is stopping: the borrower must give it back at once
  // (GiveBack) and not serve it again.
  virtual bool Serve() = 0;
  // When the loop must be served even without input (InfiniteFuture: not).
  virtual MonotonicTime deadline() const = 0;
  // The loop's own thread serves it again.
  virtual void GiveBack() = 0;
};

}  // namespace cloudlink

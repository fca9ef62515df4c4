#pragma once

// The publish socket: a Unix socket beside the API's (--publish-socket) on
// which local producers publish without gRPC (the producer library,
// client/producer.h, uses it when given its path). A message then costs
// cloudlinkd two thread wake-ups at a steady rate while the link is
// connected (the link thread serves the socket then, below: one wake-up
// reads the request and sends it, one takes the broker's PUBACK and writes
// the ack), three while it is not.
//
// One thread serves the socket and every connection with epoll. A
// connection is admitted like a call to the Publish RPC on the API's
// socket: its peer credentials (SO_PEERCRED) must pass the Authorizer's
// Unix policy for "Publish" (root, the admin group, or the publisher
// group); it is capped per uid and for all uids but root together (the
// values of --socket-max-connections-per-uid and --socket-max-connections,
// counted for this socket on its own). A refused connection gets one
// PublishSocketEnd frame (PERMISSION_DENIED CALLER_NOT_AUTHORIZED, or
// RESOURCE_EXHAUSTED STREAM_LIMIT_REACHED) and is closed. The protocol of a
// connection is in connection.h.
//
// The socket is created as the API's is (unix_socket.h): mode 0660, the
// socket's group, the publisher group by an ACL entry. An accept error
// (EMFILE, ENFILE, ...) never ends the server: it stops accepting for
// 100 ms. The thread sleeps in epoll_wait with no timeout while no
// connection has a deadline.
//
// Its thread is named "publish-socket". The loop can be lent
// (LendableLoop): while the link is connected, the
// link thread serves the socket and its connections in its own poll, and
// this thread sleeps until the loop is given back, waking only to check the
// callers the borrower accepted (the checks may wait on the system's user
// database, which must never hold up the link) and hand them back to it. A
// request is then read and sent to the broker on one wake-up. Stop() while
// the loop is lent waits for the borrower's next Serve(), which returns
// false.
//
// Thread-safe.

#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "server/api/authorizer.h"
#include "server/api/log_throttle.h"
#include "server/api/wait_pool.h"
#include "server/common/lendable_loop.h"
#include "server/common/mutex.h"
#include "server/publish/publisher.h"
#include "server/publish_socket/connection.h"

namespace cloudlink::publish_socket {

struct ServerOptions {
  std::string path;  // prepared with api::PrepareSocketPath
  gid_t group = 0;   // the socket's group (as the API socket's)
  absl::optional<gid_t> extra_group;  // --publisher-group
  int max_per_uid = 64;               // connections of one uid (not root)
  int max_not_root = 512;             // of all uids but root
  ConnectionLimits limits;
};

class Server final : public LendableLoop {
 public:
  // Listens on options.path and starts the thread. `publisher` (may be
  // null: every message is refused PUBLISH_UNAVAILABLE) and `authorizer`
  // must outlive the server. Errors: those of api::ListenOnUnixSocket, and
  // SOCKET_LISTEN_FAILED when epoll or the thread cannot be set up.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      ServerOptions options, publish::Publisher* publisher,
      const api::Authorizer* authorizer);

  // Ends every connection with UNAVAILABLE SHUTTING_DOWN (requests waiting
  // for room give up), joins the thread, closes the connections and
  // removes the socket file. Idempotent.
  void Stop();
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Connections open now (for tests).
  size_t open() const;

  // LendableLoop (server/common/lendable_loop.h). The descriptor is the
  // epoll set's.
  int Borrow() override;
  bool Serve() override;
  MonotonicTime deadline() const override;
  void GiveBack() override;

 private:
  Server(ServerOptions options, int listen_fd, int epoll_fd, int wake_fd,
         publish::Publisher* publisher, const api::Authorizer* authorizer);

  void Loop();
  // One turn: waits up to `timeout_ms` (-1: no limit) for events and
  // serves them, the connections that asked for attention and the
  // deadlines that passed. False when stopping (or epoll failed).
  bool Turn(int timeout_ms);
  // Ends every connection with SHUTTING_DOWN (the loop's last work).
  void EndAll();
  void AcceptSome();
  // Checks `fd`'s caller and the caps, on the socket thread only: refused,
  // it gets its end frame; admitted, it waits in admitted_ for the loop's
  // owner to register it.
  void Admit(int fd);
  // Adds an admitted connection to the loop and serves it (the owner).
  void Register(std::shared_ptr<Connection> connection, uid_t uid);
  // Services `connection` and (re)registers or closes it.
  void Serve(const std::shared_ptr<Connection>& connection, uint32_t events);
  void Remove(const std::shared_ptr<Connection>& connection);
  void Attention(std::shared_ptr<Connection> connection);
  void Wake();
  // The nearest connection deadline or the end of an accept pause.
  MonotonicTime NextDeadline() const;
  // The epoll_wait timeout until NextDeadline(), -1 for none.
  int TimeoutMs() const;

  const ServerOptions options_;
  const int listen_fd_;
  const int epoll_fd_;
  const int wake_fd_;  // eventfd
  const api::Authorizer* const authorizer_;
  std::atomic<bool> shutting_down_{false};
  ConnectionContext context_;
  std::thread thread_;
  bool stopped_ = false;
  api::LogThrottle accept_errors_;
  api::LogThrottle refused_;

  // The socket thread's own, or the borrower's while the loop is lent.
  struct Entry {
    std::shared_ptr<Connection> connection;
    uid_t uid;
    uint32_t registered;  // epoll events; 0: not in the epoll set
    // As of the last Service(): the only place a connection's deadline is
    // set. (A stream that ends on another thread asks for attention; until
    // then its old deadline only makes it served early.)
    MonotonicTime deadline = MonotonicTime::InfiniteFuture();
  };
  // Keeps `entry.deadline` and deadlines_ in step with the connection.
  void TrackDeadline(int fd, Entry& entry);
  std::map<int, Entry> connections_;  // by descriptor
  // The finite deadlines of connections_, nearest first: no turn of the
  // loop scans every connection.
  std::set<std::pair<MonotonicTime, int>> deadlines_;
  MonotonicTime accept_paused_until_ = MonotonicTime::InfinitePast();
  bool listen_registered_ = true;

  mutable Mutex mu_;
  std::vector<std::shared_ptr<Connection>> attention_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  bool lent_ ABSL_GUARDED_BY(mu_) = false;
  bool parked_ ABSL_GUARDED_BY(mu_) = false;  // the thread waits for lent_
  // Accepted by the borrower, for the socket thread to check (Admit).
  std::vector<int> to_admit_ ABSL_GUARDED_BY(mu_);
  // Admitted, for the loop's owner to register, with their uid.
  std::vector<std::pair<std::shared_ptr<Connection>, uid_t>> admitted_
      ABSL_GUARDED_BY(mu_);
  std::map<uid_t, int> per_uid_ ABSL_GUARDED_BY(mu_);  // uids but root
  int not_root_ ABSL_GUARDED_BY(mu_) = 0;

  WaitingJobs waiting_jobs_;
  // Last member: destroyed first, joining its kept threads.
  api::WaitPool wait_pool_;
};

}  // namespace cloudlink::publish_socket

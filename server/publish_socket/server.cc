#include "server/publish_socket/server.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/api/peer_credentials.h"
#include "server/api/unix_socket.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/thread_start.h"

namespace cloudlink::publish_socket {
namespace {

constexpr int kMaxEvents = 64;
// The socket thread's name (server.h).
constexpr char kThreadName[] = "publish-socket";
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

absl::Status SetupFailed(const std::string& path, absl::string_view what) {
  return Error(
      absl::StatusCode::kUnavailable, reason::kSocketListenFailed,
      absl::StrCat("cannot serve ", path, ": ", what, ": ", strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    ServerOptions options, publish::Publisher* publisher,
    const api::Authorizer* authorizer) {
  absl::StatusOr<int> listening =
      api::ListenOnUnixSocket(options.path, options.group, options.extra_group);
  if (!listening.ok()) return listening.status();
  const int listen_fd = *listening;
  auto fail = [&](absl::Status status, int epoll_fd, int wake_fd) {
    if (epoll_fd >= 0) close(epoll_fd);
    if (wake_fd >= 0) close(wake_fd);
    close(listen_fd);
    unlink(options.path.c_str());
    return status;
  };
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    return fail(SetupFailed(options.path, "epoll_create1"), -1, -1);
  }
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    return fail(SetupFailed(options.path, "eventfd"), epoll_fd, -1);
  }
  for (int fd : {listen_fd, wake_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
      return fail(SetupFailed(options.path, "epoll_ctl"), epoll_fd, wake_fd);
    }
  }
  std::unique_ptr<Server> server(new Server(
      std::move(options), listen_fd, epoll_fd, wake_fd, publisher, authorizer));
  absl::StatusOr<std::thread> thread =
      StartThread([s = server.get()] { s->Loop(); });
  if (!thread.ok()) {
    server->stopped_ = true;
    unlink(server->options_.path.c_str());
    return Error(absl::StatusCode::kUnavailable, reason::kSocketListenFailed,
                 absl::StrCat("cannot serve ", server->options_.path, ": ",
                              thread.status().message()));
  }
  server->thread_ = *std::move(thread);
  pthread_setname_np(server->thread_.native_handle(), kThreadName);
  LogInfo(absl::StrCat("PUBLISH: serving the publish socket on ",
                       server->options_.path));
  return server;
}

Server::Server(ServerOptions options, int listen_fd, int epoll_fd, int wake_fd,
               publish::Publisher* publisher, const api::Authorizer* authorizer)
    : options_(std::move(options)),
      listen_fd_(listen_fd),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      authorizer_(authorizer) {
  context_.publisher = publisher;
  context_.wait_pool = &wait_pool_;
  context_.waiting_jobs = &waiting_jobs_;
  context_.shutting_down = &shutting_down_;
  context_.limits = options_.limits;
}

Server::~Server() {
  Stop();
  close(listen_fd_);
  close(epoll_fd_);
  close(wake_fd_);
}

void Server::Stop() {
  if (stopped_) return;
  stopped_ = true;
  shutting_down_.store(true, std::memory_order_release);
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
  // Requests waiting for room give up (shutting_down_), then end; a job on
  // a thread of its own must not outlive the context it uses.
  waiting_jobs_.AwaitNone();
  unlink(options_.path.c_str());
  LogInfo(absl::StrCat("PUBLISH: stopped; removed ", options_.path));
}

size_t Server::open() const {
  MutexLock lock(&mu_);
  return open_;
}

void Server::Wake() {
  const uint64_t one = 1;
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

void Server::Attention(std::shared_ptr<Connection> connection) {
  bool wake;
  {
    MutexLock lock(&mu_);
    wake = attention_.empty();
    attention_.push_back(std::move(connection));
  }
  if (wake) Wake();
}

MonotonicTime Server::NextDeadline() const {
  MonotonicTime nearest = MonotonicTime::InfiniteFuture();
  if (!listen_registered_) nearest = accept_paused_until_;
  if (!deadlines_.empty()) {
    nearest = std::min(nearest, deadlines_.begin()->first);
  }
  return nearest;
}

int Server::TimeoutMs() const {
  const MonotonicTime nearest = NextDeadline();
  if (nearest == MonotonicTime::InfiniteFuture()) return -1;
  const absl::Duration left = nearest - RealClock()->MonotonicNow();
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up, so that the wait never ends just before the deadline.
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left + absl::Milliseconds(1) -
                                                  absl::Nanoseconds(1)),
                        1 << 30));
}

void Server::Loop() {
  while (true) {
    {
      MutexLock lock(&mu_);
      while (lent_) {
        // The borrower serves the loop; this thread sleeps until it is
        // given back (the borrower sees a stop in its Serve()), waking
        // only to check the callers the borrower accepted.
        parked_ = true;
        mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !lent_ || !to_admit_.empty();
        });
        std::vector<int> fds;
        fds.swap(to_admit_);
        mu_.Unlock();
        for (int fd : fds) Admit(fd);
        mu_.Lock();
      }
      parked_ = false;
      // Checked here too: a borrower may have taken the stop's wake-up.
      if (stop_) break;
    }
    if (!Turn(TimeoutMs())) break;
  }
  EndAll();
}

bool Server::Turn(int timeout_ms) {
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  if (n < 0 && errno != EINTR) {
    LogError(absl::StrCat("PUBLISH: epoll_wait failed: ", strerror(errno),
                          "; the publish socket stops"));
    return false;
  }
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == listen_fd_) {
      AcceptSome();
    } else if (fd == wake_fd_) {
      uint64_t count;
      while (read(wake_fd_, &count, sizeof(count)) < 0 && errno == EINTR) {
      }
    } else if (auto it = connections_.find(fd); it != connections_.end()) {
      std::shared_ptr<Connection> connection = it->second.connection;
      Serve(connection, events[i].events);
    }
  }
  std::vector<std::shared_ptr<Connection>> asked;
  std::vector<std::pair<std::shared_ptr<Connection>, uid_t>> admitted;
  {
    MutexLock lock(&mu_);
    asked.swap(attention_);
    admitted.swap(admitted_);
    if (stop_) return false;
  }
  for (auto& [connection, uid] : admitted) Register(std::move(connection), uid);
  for (const std::shared_ptr<Connection>& connection : asked) {
    if (connections_.count(connection->fd()) != 0 &&
        connections_[connection->fd()].connection == connection) {
      Serve(connection, 0);
    }
  }
  // Deadlines that passed, and the end of an accept pause.
  const MonotonicTime now = RealClock()->MonotonicNow();
  std::vector<std::shared_ptr<Connection>> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now;
       ++it) {
    due.push_back(connections_[it->second].connection);
  }
  for (const std::shared_ptr<Connection>& connection : due) {
    Serve(connection, 0);
  }
  if (!listen_registered_ && now >= accept_paused_until_) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listen_fd_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event) == 0) {
      listen_registered_ = true;
    }
  }
  return true;
}

void Server::EndAll() {
  // Stopping: every stream ends with SHUTTING_DOWN, then closes.
  const absl::Status stopping =
      Error(absl::StatusCode::kUnavailable, reason::kShuttingDown,
            "cloudlinkd is stopping");
  std::vector<int> unchecked;
  std::vector<std::pair<std::shared_ptr<Connection>, uid_t>> admitted;
  {
    MutexLock lock(&mu_);
    unchecked.swap(to_admit_);
    admitted.swap(admitted_);
  }
  for (int fd : unchecked) {
    auto connection = std::make_shared<Connection>(
        fd, &context_, [](std::shared_ptr<Connection>) {});
    connection->End(stopping);
    connection->Close();
  }
  for (auto& [connection, uid] : admitted) Register(std::move(connection), uid);
  std::vector<std::shared_ptr<Connection>> all;
  for (const auto& [fd, entry] : connections_) all.push_back(entry.connection);
  for (const std::shared_ptr<Connection>& connection : all) {
    connection->End(stopping);
    Remove(connection);
  }
}

int Server::Borrow() {
  MutexLock lock(&mu_);
  if (stop_ || lent_) return -1;
  lent_ = true;
  Wake();  // out of epoll_wait, to park
  mu_.Await(
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return parked_ || stop_; });
  if (!parked_) {  // stopping: the thread ends instead
    lent_ = false;
    return -1;
  }
  return epoll_fd_;
}

bool Server::Serve() { return Turn(0); }

MonotonicTime Server::deadline() const { return NextDeadline(); }

void Server::GiveBack() {
  MutexLock lock(&mu_);
  lent_ = false;
}

void Server::AcceptSome() {
  while (true) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      bool lent;
      {
        MutexLock lock(&mu_);
        lent = lent_;  // then this is the borrower: the socket thread checks
        if (lent) to_admit_.push_back(fd);
      }
      if (!lent) Admit(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    // Out of descriptors or memory: stop accepting for a moment rather than
    // spinning on the same error (the deadline check puts it back).
    accept_errors_.Log(
        LogLevel::kWarning,
        absl::StrCat("PUBLISH: accept failed: ", strerror(errno)));
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr) == 0) {
      listen_registered_ = false;
      accept_paused_until_ = RealClock()->MonotonicNow() + kAcceptPause;
    }
    return;
  }
}

void Server::Admit(int fd) {
  auto connection = std::make_shared<Connection>(
      fd, &context_,
      [this](std::shared_ptr<Connection> c) { Attention(std::move(c)); });
  // May wait on the user database (NSS): on the socket thread, never on a
  // borrower's.
  absl::StatusOr<api::UnixCredentials> caller = api::ReadPeerCredentials(fd);
  absl::Status refused;
  if (!caller.ok()) {
    refused = caller.status();
  } else {
    refused = authorizer_->CheckUnix(*caller, "Publish");
  }
  if (refused.ok()) {
    MutexLock lock(&mu_);
    if (caller->uid != 0) {
      auto it = per_uid_.find(caller->uid);
      const int mine = it == per_uid_.end() ? 0 : it->second;
      if (mine >= options_.max_per_uid) {
        refused = Error(absl::StatusCode::kResourceExhausted,
                        reason::kStreamLimitReached,
                        absl::StrCat("uid ", caller->uid, " has ", mine,
                                     " publish socket connections open "
                                     "(--socket-max-connections-per-uid)"));
      } else if (not_root_ >= options_.max_not_root) {
        refused = Error(
            absl::StatusCode::kResourceExhausted, reason::kStreamLimitReached,
            absl::StrCat(not_root_,
                         " publish socket connections of uids but root are "
                         "open (--socket-max-connections)"));
      } else {
        ++per_uid_[caller->uid];
        ++not_root_;
      }
    }
    if (refused.ok()) {
      ++open_;
      admitted_.emplace_back(connection, caller->uid);
    }
  }
  if (!refused.ok()) {
    refused_.Log(
        LogLevel::kWarning,
        absl::StrCat("PUBLISH: refused a connection",
                     caller.ok() ? absl::StrCat(" of uid ", caller->uid,
                                                " pid ", caller->pid)
                                 : "",
                     ": ", refused.message()));
    connection->End(refused);
    connection->Close();
    return;
  }
  LogInfo(absl::StrCat("API: Publish (publish socket) by uid ", caller->uid,
                       " pid ", caller->pid));
  Wake();  // the loop's owner registers it
}

void Server::Register(std::shared_ptr<Connection> connection, uid_t uid) {
  connections_[connection->fd()] = Entry{connection, uid, 0};
  Serve(connection, 0);
}

void Server::Serve(const std::shared_ptr<Connection>& connection,
                   uint32_t events) {
  absl::optional<uint32_t> wanted = connection->Service(events);
  if (!wanted.has_value()) {
    Remove(connection);
    return;
  }
  Entry& entry = connections_[connection->fd()];
  TrackDeadline(connection->fd(), entry);
  if (*wanted == entry.registered) return;
  // Nothing wanted: out of the epoll set until the connection asks for
  // attention (epoll reports a hang-up even for no events, which would
  // spin while a request waits for room).
  const int op = *wanted == 0            ? EPOLL_CTL_DEL
                 : entry.registered == 0 ? EPOLL_CTL_ADD
                                         : EPOLL_CTL_MOD;
  epoll_event event{};
  event.events = *wanted;
  event.data.fd = connection->fd();
  if (epoll_ctl(epoll_fd_, op, connection->fd(), &event) != 0) {
    LogError(absl::StrCat("PUBLISH: epoll_ctl failed: ", strerror(errno),
                          "; the connection is closed"));
    Remove(connection);
    return;
  }
  entry.registered = *wanted;
}

void Server::TrackDeadline(int fd, Entry& entry) {
  const MonotonicTime deadline = entry.connection->deadline();
  if (deadline == entry.deadline) return;
  if (entry.deadline != MonotonicTime::InfiniteFuture()) {
    deadlines_.erase({entry.deadline, fd});
  }
  entry.deadline = deadline;
  if (deadline != MonotonicTime::InfiniteFuture()) {
    deadlines_.insert({deadline, fd});
  }
}

void Server::Remove(const std::shared_ptr<Connection>& connection) {
  auto it = connections_.find(connection->fd());
  if (it == connections_.end() || it->second.connection != connection) return;
  if (it->second.registered != 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection->fd(), nullptr);
  }
  if (it->second.deadline != MonotonicTime::InfiniteFuture()) {
    deadlines_.erase({it->second.deadline, it->first});
  }
  const uid_t uid = it->second.uid;
  connections_.erase(it);
  connection->Close();
  MutexLock lock(&mu_);
  if (uid != 0) {
    --not_root_;
    if (--per_uid_[uid] == 0) per_uid_.erase(uid);
  }
  --open_;
}

}  // namespace cloudlink::publish_socket

#include "server/api/tls_listener.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/api/tcp_listen.h"
#include "server/api/tls_peer.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/thread_start.h"

namespace cloudlink::api {
namespace {

constexpr int kBacklog = 128;
constexpr size_t kBufferBytes = 64 * 1024;
constexpr size_t kChunk = 16 * 1024;
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

// The listening sockets are tagged with this in epoll_event.data.u64's top
// bit; connections by their address.
constexpr uint64_t kListenTag = uint64_t{1} << 63;
constexpr uint64_t kWakeTag = kListenTag | 0xffffffff;

}  // namespace

struct TlsListener::Connection {
  int tcp = -1;
  int relay = -1;  // our end of the pair to gRPC; -1 while handshaking
  SSL* ssl = nullptr;
  std::string source;      // the per-address cap's key
  std::string peer;        // for logs
  MonotonicTime deadline;  // of the handshake
  bool want_read = true;   // what the handshake waits for
  bool want_write = false;
  bool tcp_write_blocked = false;  // SSL_write waits for the socket
  bool relay_ended = false;        // gRPC closed its end
  std::string to_grpc;             // plain text from the client
  std::string to_client;           // plain text from gRPC
  uint32_t tcp_events = 0;         // registered with epoll
  uint32_t relay_events = 0;
  bool tcp_added = false;
  bool relay_added = false;
};

TlsListener::TlsListener(const TlsListenerOptions& options,
                         std::shared_ptr<TlsServerContext> tls,
                         UnixPeerRegistry* peers, ConnectionSink* sink)
    : options_(options), tls_(std::move(tls)), peers_(peers), sink_(sink) {}

absl::StatusOr<std::unique_ptr<TlsListener>> TlsListener::Start(
    const TlsListenerOptions& options, std::shared_ptr<TlsServerContext> tls,
    UnixPeerRegistry* peers, ConnectionSink* sink) {
  auto failed = [&](absl::string_view why) {
    return Error(
        absl::StatusCode::kUnavailable, reason::kListenFailed,
        absl::StrCat("cannot listen on ", options.address, " (--listen): ", why,
                     "; is the address local and the port free?"));
  };
  absl::StatusOr<TcpListenSockets> sockets =
      ListenTcp(options.address, kBacklog);
  if (!sockets.ok()) return failed(sockets.status().message());
  std::unique_ptr<TlsListener> listener(
      new TlsListener(options, std::move(tls), peers, sink));
  listener->listen_fds_ = std::move(sockets->fds);
  listener->port_ = sockets->port;

  int wake[2];
  listener->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (listener->epoll_fd_ < 0 || pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    const std::string why = strerror(errno);
    for (int fd : listener->listen_fds_) close(fd);
    if (listener->epoll_fd_ >= 0) close(listener->epoll_fd_);
    listener->stopped_ = true;
    return failed(why);
  }
  listener->wake_read_ = wake[0];
  listener->wake_write_ = wake[1];
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  epoll_ctl(listener->epoll_fd_, EPOLL_CTL_ADD, wake[0], &event);
  for (int fd : listener->listen_fds_) {
    event.data.u64 = kListenTag | static_cast<uint32_t>(fd);
    epoll_ctl(listener->epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
  absl::StatusOr<std::thread> thread =
      StartThread([l = listener.get()] { l->Run(); });
  if (!thread.ok()) {
    for (int fd : listener->listen_fds_) close(fd);
    close(listener->epoll_fd_);
    close(wake[0]);
    close(wake[1]);
    listener->stopped_ = true;
    return failed(thread.status().message());
  }
  listener->thread_ = *std::move(thread);
  return listener;
}

void TlsListener::SetTlsContext(std::shared_ptr<TlsServerContext> tls) {
  MutexLock lock(&mu_);
  tls_ = std::move(tls);
}

void TlsListener::Run() {
  epoll_event events[64];
  while (true) {
    // The next deadline: a handshake's end, or the end of a pause.
    MonotonicTime next = MonotonicTime::InfiniteFuture();
    for (const auto& [key, c] : connections_) {
      if (c->relay < 0) next = std::min(next, c->deadline);
    }
    if (accept_paused_) next = std::min(next, accept_paused_until_);
    int timeout_ms = -1;
    if (next != MonotonicTime::InfiniteFuture()) {
      const absl::Duration left = next - RealClock()->MonotonicNow();
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(left) + 1));
    }
    const int ready = epoll_wait(epoll_fd_, events, 64, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      LogError(absl::StrCat("API: epoll on the remote listener failed: ",
                            strerror(errno)));
      return;
    }
    for (int i = 0; i < ready; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) return;  // Stop()
      if ((tag & kListenTag) != 0) {
        AcceptAll(static_cast<int>(tag & 0xffffffff));
        continue;
      }
      auto* c = reinterpret_cast<Connection*>(events[i].data.ptr);
      if (connections_.count(c) == 0) continue;  // closed in this round
      const bool hung_up = (events[i].events & (EPOLLERR | EPOLLHUP)) != 0;
      if (!Pump(c) || hung_up) {
        Close(c);
      } else {
        UpdateInterest(c);
      }
    }
    const MonotonicTime now = RealClock()->MonotonicNow();
    std::vector<Connection*> late;
    for (const auto& [key, c] : connections_) {
      if (c->relay < 0 && c->deadline <= now) late.push_back(c.get());
    }
    for (Connection* c : late) {
      handshake_failures_.Log(
          LogLevel::kWarning,
          absl::StrCat("API: closed ", c->peer, ": no TLS handshake within ",
                       absl::FormatDuration(options_.handshake_timeout),
                       " (--tls-handshake-timeout)"));
      Close(c);
    }
    if (accept_paused_ && accept_paused_until_ <= now) {
      accept_paused_ = false;
      for (int fd : listen_fds_) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = kListenTag | static_cast<uint32_t>(fd);
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
      }
    }
  }
}

void TlsListener::PauseAccepting() {
  accept_paused_ = true;
  accept_paused_until_ = RealClock()->MonotonicNow() + kAcceptPause;
  for (int fd : listen_fds_) {
    epoll_event event{};
    event.events = 0;
    event.data.u64 = kListenTag | static_cast<uint32_t>(fd);
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
}

void TlsListener::AcceptAll(int listen_fd) {
  if (accept_paused_) return;
  for (int round = 0; round < 64; ++round) {
    sockaddr_storage addr{};
    socklen_t length = sizeof(addr);
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr),
                           &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) or
      // anything else: the listener stays, and tries again shortly.
      accept_errors_.Log(LogLevel::kWarning,
                         absl::StrCat("API: accept on ", options_.address,
                                      " failed: ", strerror(errno)));
      PauseAccepting();
      return;
    }
    std::string source;
    std::string peer = PeerAddress(addr, &source);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      over_cap_.Log(
          LogLevel::kWarning,
          absl::StrCat("API: refused ", peer, ": ", options_.max_connections,
                       " connections already "
                       "(--listen-max-connections)"));
      close(fd);
      continue;
    }
    int& from_source = per_address_[source];
    if (from_source >= options_.max_connections_per_address) {
      over_cap_.Log(LogLevel::kWarning,
                    absl::StrCat("API: refused ", peer, ": ", from_source,
                                 " connections from ", source,
                                 " already (--listen-max-connections-per-"
                                 "address)"));
      close(fd);
      continue;
    }
    std::shared_ptr<TlsServerContext> tls;
    {
      MutexLock lock(&mu_);
      tls = tls_;
    }
    SSL* ssl = SSL_new(tls->get());
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
      accept_errors_.Log(LogLevel::kWarning,
                         absl::StrCat("API: cannot set up TLS for ", peer, ": ",
                                      TakeOpenSslError()));
      if (ssl != nullptr) SSL_free(ssl);
      close(fd);
      continue;
    }
    SSL_set_accept_state(ssl);
    ++from_source;
    auto c = std::make_unique<Connection>();
    c->tcp = fd;
    c->ssl = ssl;
    c->source = source;
    c->peer = std::move(peer);
    c->deadline = RealClock()->MonotonicNow() + options_.handshake_timeout;
    Connection* raw = c.get();
    connections_[raw] = std::move(c);
    connection_count_.store(static_cast<int>(connections_.size()));
    UpdateInterest(raw);
  }
}

bool TlsListener::Pump(Connection* c) {
  if (c->relay < 0) {
    if (!Handshake(c)) return false;
    if (c->relay < 0) return true;  // still handshaking
  }
  return Relay(c);
}

bool TlsListener::Handshake(Connection* c) {
  const int done = SSL_do_handshake(c->ssl);
  if (done == 1) return HandOver(c);
  const int error = SSL_get_error(c->ssl, done);
  c->want_read = error == SSL_ERROR_WANT_READ;
  c->want_write = error == SSL_ERROR_WANT_WRITE;
  if (c->want_read || c->want_write) return true;
  std::string why = TakeOpenSslError();
  const long verified = SSL_get_verify_result(c->ssl);
  if (verified != X509_V_OK) {
    why = absl::StrCat("client certificate: ",
                       X509_verify_cert_error_string(verified));
  }
  handshake_failures_.Log(
      LogLevel::kWarning,
      absl::StrCat("API: TLS handshake with ", c->peer, " failed: ", why));
  return false;
}

bool TlsListener::HandOver(Connection* c) {
  absl::optional<TlsPeer> peer = VerifiedTlsPeer(c->ssl, c->peer);
  if (!peer.has_value()) {
    handshake_failures_.Log(
        LogLevel::kWarning,
        absl::StrCat("API: ", c->peer, " presented no verified certificate"));
    return false;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                 pair) != 0) {
    accept_errors_.Log(LogLevel::kWarning,
                       absl::StrCat("API: cannot hand ", c->peer,
                                    " to gRPC: socketpair: ", strerror(errno)));
    return false;
  }
  const int grpc_end = peers_->MoveToRotatingNumber(pair[1]);
  absl::Status registered = peers_->Register(grpc_end, *std::move(peer));
  if (!registered.ok()) {
    close(pair[0]);
    close(grpc_end);
    return false;
  }
  if (absl::Status adopted = sink_->Adopt(grpc_end); !adopted.ok()) {
    accept_errors_.Log(LogLevel::kWarning,
                       absl::StrCat("API: cannot hand ", c->peer,
                                    " to gRPC: ", adopted.message()));
    close(pair[0]);  // the sink closed grpc_end
    return false;
  }
  c->relay = pair[0];
  c->want_read = c->want_write = false;
  return true;
}

bool TlsListener::Relay(Connection* c) {
  char buffer[kChunk];
  bool progress = true;
  while (progress) {
    progress = false;
    // Client → gRPC.
    while (c->to_grpc.size() < kBufferBytes) {
      const int n = SSL_read(c->ssl, buffer, sizeof(buffer));
      if (n > 0) {
        c->to_grpc.append(buffer, n);
        progress = true;
        continue;
      }
      const int error = SSL_get_error(c->ssl, n);
      if (error == SSL_ERROR_WANT_READ) break;
      if (error == SSL_ERROR_WANT_WRITE) {
        c->tcp_write_blocked = true;
        break;
      }
      ERR_clear_error();
      return false;  // the client closed, or TLS failed
    }
    if (!c->to_grpc.empty()) {
      const ssize_t n = write(c->relay, c->to_grpc.data(), c->to_grpc.size());
      if (n > 0) {
        c->to_grpc.erase(0, n);
        progress = true;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return false;  // gRPC closed the connection
      }
    }
    // gRPC → client.
    if (!c->relay_ended && c->to_client.size() < kBufferBytes) {
      const ssize_t n =
          read(c->relay, buffer,
               std::min(sizeof(buffer), kBufferBytes - c->to_client.size()));
      if (n > 0) {
        c->to_client.append(buffer, n);
        progress = true;
      } else if (n == 0) {
        c->relay_ended = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        return false;
      }
    }
    if (!c->to_client.empty()) {
      const int n = SSL_write(c->ssl, c->to_client.data(),
                              static_cast<int>(c->to_client.size()));
      if (n > 0) {
        c->to_client.erase(0, n);
        c->tcp_write_blocked = false;
        progress = true;
      } else {
        const int error = SSL_get_error(c->ssl, n);
        if (error == SSL_ERROR_WANT_WRITE) {
          c->tcp_write_blocked = true;
        } else if (error != SSL_ERROR_WANT_READ) {
          ERR_clear_error();
          return false;
        }
      }
    }
    if (c->relay_ended && c->to_client.empty()) {
      SSL_shutdown(c->ssl);
      return false;
    }
  }
  return true;
}

void TlsListener::UpdateInterest(Connection* c) {
  uint32_t tcp = 0;
  uint32_t relay = 0;
  if (c->relay < 0) {
    if (c->want_read) tcp |= EPOLLIN;
    if (c->want_write) tcp |= EPOLLOUT;
  } else {
    if (c->to_grpc.size() < kBufferBytes) tcp |= EPOLLIN;
    if (c->tcp_write_blocked) tcp |= EPOLLOUT;
    if (c->to_client.size() < kBufferBytes) relay |= EPOLLIN;
    if (!c->to_grpc.empty()) relay |= EPOLLOUT;
  }
  epoll_event event{};
  event.data.ptr = c;
  if (!c->tcp_added || tcp != c->tcp_events) {
    event.events = tcp;
    epoll_ctl(epoll_fd_, c->tcp_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->tcp,
              &event);
    c->tcp_added = true;
    c->tcp_events = tcp;
  }
  if (c->relay >= 0 && (!c->relay_added || relay != c->relay_events)) {
    event.events = relay;
    epoll_ctl(epoll_fd_, c->relay_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
              c->relay, &event);
    c->relay_added = true;
    c->relay_events = relay;
  }
}

void TlsListener::Close(Connection* c) {
  SSL_free(c->ssl);
  close(c->tcp);  // also leaves the epoll set
  if (c->relay >= 0) close(c->relay);
  auto source = per_address_.find(c->source);
  if (source != per_address_.end() && --source->second <= 0) {
    per_address_.erase(source);
  }
  connections_.erase(c);
  connection_count_.store(static_cast<int>(connections_.size()));
}

void TlsListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  char byte = 1;
  while (write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  std::vector<Connection*> all;
  for (const auto& [key, c] : connections_) all.push_back(c.get());
  for (Connection* c : all) Close(c);
  for (int fd : listen_fds_) close(fd);
  close(epoll_fd_);
  close(wake_read_);
  close(wake_write_);
}

TlsListener::~TlsListener() { Stop(); }

}  // namespace cloudlink::api

#include "server/socks5/socks5_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/thread_start.h"
#include "server/socks5/socks5_handshake.h"

namespace cloudlink::socks5 {
namespace {

constexpr size_t kPumpBufferSize = 64 * 1024;

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// poll()'s timeout for `left`, rounded up; -1 (none) for an infinite one.
int PollMillis(absl::Duration left) {
  if (left <= absl::ZeroDuration()) return 0;
  if (left >= absl::Milliseconds(INT_MAX - 1)) return -1;
  return static_cast<int>(absl::ToInt64Milliseconds(left) + 1);
}

absl::Status Stopped() { return absl::CancelledError("the relay was stopped"); }

absl::Status HandshakeTimeout(const config::ProxyConfig& proxy) {
  return Error(
      absl::StatusCode::kUnavailable, reason::kProxyFailed,
      absl::StrCat("proxy negotiation failed: the SOCKS5 proxy ", proxy.host,
                   ":", proxy.port, " did not complete the handshake in time"));
}

}  // namespace

Socks5Relay::Socks5Relay(Socks5RelayOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Socks5Relay>> Socks5Relay::Start(
    Socks5RelayOptions options) {
  if (options.proxy.kind != config::ProxyKind::kSocks5 &&
      options.proxy.kind != config::ProxyKind::kSocks5h) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kProxyInvalid,
                 "the relay needs a socks5:// or socks5h:// proxy");
  }
  if (options.target_host.empty() || options.target_port < 1 ||
      options.target_port > 65535) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kProxyInvalid,
                 "the relay needs a target host and a port in 1..65535");
  }
  std::unique_ptr<Socks5Relay> relay(new Socks5Relay(std::move(options)));
  auto fail = [](absl::string_view what) {
    return Error(absl::StatusCode::kInternal, reason::kRelayFailed,
                 absl::StrCat("cannot set up the SOCKS5 relay: ", what, ": ",
                              strerror(errno)));
  };
  char dir_template[] = "/tmp/cl.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return fail("mkdtemp");
  relay->dir_ = dir_template;  // mkdtemp makes it 0700
  relay->socket_path_ = relay->dir_ + "/relay";
  if (pipe2(relay->stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return fail("pipe");
  }
  relay->listen_fd_ =
      socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (relay->listen_fd_ < 0) return fail("socket");
  sockaddr_un address;
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, relay->socket_path_.c_str(),
               sizeof(address.sun_path) - 1);
  if (bind(relay->listen_fd_, reinterpret_cast<sockaddr*>(&address),
           sizeof(address)) != 0) {
    return fail("bind");
  }
  if (listen(relay->listen_fd_, 1) != 0) return fail("listen");
  absl::StatusOr<std::thread> thread =
      StartThread([r = relay.get()] { r->Run(); });
  if (!thread.ok()) {
    return Error(absl::StatusCode::kResourceExhausted, reason::kRelayFailed,
                 absl::StrCat("cannot set up the SOCKS5 relay: ",
                              thread.status().message()));
  }
  relay->thread_ = *std::move(thread);
  return relay;
}

Socks5Relay::~Socks5Relay() {
  if (stop_pipe_[1] >= 0) {
    const char byte = 1;
    (void)!write(stop_pipe_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  CloseFd(&listen_fd_);
  CloseFd(&stop_pipe_[0]);
  CloseFd(&stop_pipe_[1]);
  if (!socket_path_.empty()) unlink(socket_path_.c_str());
  if (!dir_.empty()) rmdir(dir_.c_str());
}

absl::Status Socks5Relay::WaitFd(int fd, short events, MonotonicTime deadline) {
  Clock* const clock = options_.clock;
  while (true) {
    pollfd fds[2] = {{fd, events, 0}, {stop_pipe_[0], POLLIN, 0}};
    const int n = poll(fds, 2, PollMillis(deadline - clock->MonotonicNow()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", strerror(errno)));
    }
    if (fds[1].revents != 0) return Stopped();
    if (fds[0].revents != 0) return absl::OkStatus();
    if (clock->MonotonicNow() >= deadline) {
      return absl::DeadlineExceededError("timeout");
    }
  }
}

absl::optional<absl::Status> Socks5Relay::handshake_status() const {
  MutexLock lock(&mu_);
  return handshake_status_;
}

void Socks5Relay::SetHandshakeStatus(absl::Status status) {
  MutexLock lock(&mu_);
  handshake_status_ = std::move(status);
}

void Socks5Relay::Run() {
  int proxy_fd = -1;
  std::string early_tunnel_bytes;
  absl::Status status = [&]() -> absl::Status {
    auto fd = ConnectToProxy(options_.clock->MonotonicNow() +
                             options_.connect_timeout);
    if (!fd.ok()) return fd.status();
    proxy_fd = *fd;
    return Handshake(proxy_fd, &early_tunnel_bytes);
  }();
  if (absl::IsCancelled(status)) {
    CloseFd(&proxy_fd);
    return;
  }
  // Record the outcome before the client can see any close, so the
  // transport finds it when lws reports the failure.
  SetHandshakeStatus(status);
  if (!status.ok()) {
    CloseFd(&proxy_fd);
    // Refuse (and reset) any client: it sees the failure at once.
    CloseFd(&listen_fd_);
    unlink(socket_path_.c_str());
    return;
  }
  auto client_fd = AcceptClient();
  CloseFd(&listen_fd_);
  if (!client_fd.ok()) {
    CloseFd(&proxy_fd);
    return;
  }
  Pump(*client_fd, proxy_fd, std::move(early_tunnel_bytes));
  int client = *client_fd;
  CloseFd(&client);
  CloseFd(&proxy_fd);
}

absl::StatusOr<int> Socks5Relay::ConnectToProxy(MonotonicTime deadline) {
  const config::ProxyConfig& proxy = options_.proxy;
  const std::string proxy_name = absl::StrCat(
      proxy.host.find(':') != std::string::npos ? "[" + proxy.host + "]"
                                                : proxy.host,
      ":", proxy.port);
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  const std::string port = absl::StrCat(proxy.port);
  const int rc =
      getaddrinfo(proxy.host.c_str(), port.c_str(), &hints, &results);
  if (rc != 0) {
    return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                 absl::StrCat("cannot resolve the SOCKS5 proxy ", proxy_name,
                              ": ", gai_strerror(rc)));
  }
  std::string last_error = "no addresses";
  for (addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
               ai->ai_protocol);
    if (fd < 0) {
      last_error = strerror(errno);
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = strerror(errno);
      CloseFd(&fd);
      continue;
    }
    absl::Status waited = WaitFd(fd, POLLOUT, deadline);
    if (absl::IsCancelled(waited)) {
      CloseFd(&fd);
      freeaddrinfo(results);
      return waited;
    }
    if (absl::IsDeadlineExceeded(waited)) {
      last_error = "timed out";
      CloseFd(&fd);
      break;
    }
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
      error = errno;
    }
    if (error == 0) {
      freeaddrinfo(results);
      return fd;
    }
    last_error = strerror(error);
    CloseFd(&fd);
  }
  freeaddrinfo(results);
  return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
               absl::StrCat("cannot connect to the SOCKS5 proxy ", proxy_name,
                            ": ", last_error));
}

absl::Status Socks5Relay::Handshake(int proxy_fd,
                                    std::string* early_tunnel_bytes) {
  const config::ProxyConfig& proxy = options_.proxy;
  const MonotonicTime deadline =
      options_.clock->MonotonicNow() + options_.handshake_timeout;
  auto destination =
      socks5::ResolveDestination(options_.target_host, options_.target_port,
                                 proxy.kind == config::ProxyKind::kSocks5h);
  if (!destination.ok()) return destination.status();

  auto send_all = [&](const std::string& bytes) -> absl::Status {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(proxy_fd, bytes.data() + sent, bytes.size() - sent,
                             MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        absl::Status waited = WaitFd(proxy_fd, POLLOUT, deadline);
        if (absl::IsDeadlineExceeded(waited)) return HandshakeTimeout(proxy);
        if (!waited.ok()) return waited;
        continue;
      }
      return Error(absl::StatusCode::kUnavailable, reason::kProxyFailed,
                   absl::StrCat("proxy negotiation failed: sending to the "
                                "SOCKS5 proxy: ",
                                strerror(errno)));
    }
    return absl::OkStatus();
  };
  // Reads until `parse` reports a complete reply; bytes past it stay in
  // `received` for the next step.
  std::string received;
  auto read_reply =
      [&](const std::function<absl::StatusOr<size_t>(absl::string_view)>& parse)
      -> absl::Status {
    while (true) {
      auto used = parse(received);
      if (!used.ok()) return used.status();
      if (*used > 0) {
        received.erase(0, *used);
        return absl::OkStatus();
      }
      char buffer[512];
      const ssize_t n = recv(proxy_fd, buffer, sizeof(buffer), 0);
      if (n > 0) {
        received.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        return Error(absl::StatusCode::kUnavailable, reason::kProxyFailed,
                     "proxy negotiation failed: the SOCKS5 proxy closed the "
                     "connection during the handshake");
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        absl::Status waited = WaitFd(proxy_fd, POLLIN, deadline);
        if (absl::IsDeadlineExceeded(waited)) return HandshakeTimeout(proxy);
        if (!waited.ok()) return waited;
        continue;
      }
      return Error(absl::StatusCode::kUnavailable, reason::kProxyFailed,
                   absl::StrCat("proxy negotiation failed: reading from the "
                                "SOCKS5 proxy: ",
                                strerror(errno)));
    }
  };

  const bool offer_user_pass = !proxy.username.empty();
  absl::Status status = send_all(socks5::EncodeGreeting(offer_user_pass));
  if (!status.ok()) return status;
  uint8_t method = 0;
  status = read_reply([&](absl::string_view bytes) {
    return socks5::ParseMethodSelection(bytes, offer_user_pass, &method);
  });
  if (!status.ok()) return status;
  if (method == socks5::kMethodUserPass) {
    auto request =
        socks5::EncodeUserPassRequest(proxy.username, proxy.password);
    if (!request.ok()) return request.status();
    status = send_all(*request);
    if (!status.ok()) return status;
    status = read_reply(socks5::ParseUserPassReply);
    if (!status.ok()) return status;
  }
  auto connect_request = socks5::EncodeConnectRequest(*destination);
  if (!connect_request.ok()) return connect_request.status();
  status = send_all(*connect_request);
  if (!status.ok()) return status;
  status = read_reply([&](absl::string_view bytes) {
    return socks5::ParseConnectReply(bytes, *destination);
  });
  if (!status.ok()) return status;
  *early_tunnel_bytes = std::move(received);
  return absl::OkStatus();
}

absl::StatusOr<int> Socks5Relay::AcceptClient() {
  const MonotonicTime deadline =
      options_.clock->MonotonicNow() + options_.accept_timeout;
  while (true) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) return fd;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::InternalError(absl::StrCat("accept: ", strerror(errno)));
    }
    absl::Status waited = WaitFd(listen_fd_, POLLIN, deadline);
    if (!waited.ok()) return waited;
  }
}

void Socks5Relay::Pump(int client_fd, int proxy_fd, std::string to_client) {
  struct Direction {
    int from;
    int to;
    std::string buffer;
    bool eof = false;
    bool shut = false;
  };
  Direction up{client_fd, proxy_fd, std::string()};
  Direction down{proxy_fd, client_fd, std::move(to_client)};
  Direction* directions[2] = {&up, &down};
  char chunk[kPumpBufferSize];
  while (true) {
    bool done = true;
    for (Direction* d : directions) {
      if (d->eof && d->buffer.empty() && !d->shut) {
        shutdown(d->to, SHUT_WR);
        d->shut = true;
      }
      if (!d->shut) done = false;
    }
    if (done) return;
    // Index 0: client, 1: proxy, 2: stop pipe.
    pollfd fds[3] = {
        {client_fd, 0, 0}, {proxy_fd, 0, 0}, {stop_pipe_[0], POLLIN, 0}};
    auto slot = [&](int fd) -> pollfd& {
      return fd == client_fd ? fds[0] : fds[1];
    };
    for (Direction* d : directions) {
      if (!d->eof && d->buffer.empty()) slot(d->from).events |= POLLIN;
      if (!d->buffer.empty()) slot(d->to).events |= POLLOUT;
    }
    // A descriptor we want nothing from would still report POLLHUP and spin.
    for (int i = 0; i < 2; ++i) {
      if (fds[i].events == 0) fds[i].fd = -1;
    }
    const int n = poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[2].revents != 0) return;
    for (Direction* d : directions) {
      const pollfd& from = slot(d->from);
      if ((from.events & POLLIN) && from.revents != 0) {
        const ssize_t got = recv(d->from, chunk, sizeof(chunk), 0);
        if (got > 0) {
          d->buffer.append(chunk, static_cast<size_t>(got));
        } else if (got == 0) {
          d->eof = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          return;  // reset: drop both directions
        }
      }
      const pollfd& to = slot(d->to);
      if (!d->buffer.empty() && (to.events & POLLOUT) && to.revents != 0) {
        const ssize_t sent =
            send(d->to, d->buffer.data(), d->buffer.size(), MSG_NOSIGNAL);
        if (sent > 0) {
          d->buffer.erase(0, static_cast<size_t>(sent));
        } else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                   errno != EINTR) {
          return;
        }
      }
    }
  }
}

}  // namespace cloudlink::socks5

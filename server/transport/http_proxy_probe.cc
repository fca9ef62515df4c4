#include "server/transport/http_proxy_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/error.h"
#include "server/common/log.h"

namespace cloudlink::transport {
namespace {

absl::Status Failed(absl::string_view what, const config::ProxyConfig& proxy) {
  return Error(absl::StatusCode::kUnavailable, reason::kProxyFailed,
               absl::StrCat("asking the HTTP proxy ", proxy.Redacted(),
                            " why it refused: ", what));
}

// Milliseconds left until `deadline`, at least 0.
int MillisLeft(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  return left <= absl::ZeroDuration()
             ? 0
             : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` has `events` or the deadline passes.
bool WaitFor(int fd, short events, absl::Time deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

}  // namespace

absl::StatusOr<int> ProbeHttpConnectStatus(const config::ProxyConfig& proxy,
                                           absl::string_view host, int port,
                                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = absl::StrCat(proxy.port);
  if (getaddrinfo(proxy.host.c_str(), service.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return Failed("its host name could not be resolved", proxy);
  }
  Fd fd(socket(found->ai_family,
               found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
               found->ai_protocol));
  const int connected =
      fd.get() < 0 ? -1 : connect(fd.get(), found->ai_addr, found->ai_addrlen);
  const int connect_errno = errno;
  freeaddrinfo(found);
  if (fd.get() < 0 || (connected != 0 && connect_errno != EINPROGRESS)) {
    return Failed("it could not be reached", proxy);
  }
  if (connected != 0) {
    int error = 0;
    socklen_t len = sizeof(error);
    if (!WaitFor(fd.get(), POLLOUT, deadline) ||
        getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 ||
        error != 0) {
      return Failed("it could not be reached", proxy);
    }
  }
  const std::string target =
      absl::StrCat(absl::StrContains(host, ':') ? absl::StrCat("[", host, "]")
                                                : std::string(host),
                   ":", port);
  std::string request =
      absl::StrCat("CONNECT ", target, " HTTP/1.1\r\nHost: ", target, "\r\n");
  if (!proxy.username.empty()) {
    absl::StrAppend(
        &request, "Proxy-Authorization: Basic ",
        absl::Base64Escape(absl::StrCat(proxy.username, ":", proxy.password)),
        "\r\n");
  }
  request += "\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    if (!WaitFor(fd.get(), POLLOUT, deadline)) {
      return Failed("it did not take the request in time", proxy);
    }
    const ssize_t n = send(fd.get(), request.data() + sent,
                           request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return Failed("it closed the connection", proxy);
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::fill(request.begin(), request.end(), '\0');  // held the password
  std::string answer;
  while (answer.find("\r\n") == std::string::npos && answer.size() < 256) {
    if (!WaitFor(fd.get(), POLLIN, deadline)) {
      return Failed("it did not answer in time", proxy);
    }
    char buf[256];
    const ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    answer.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.x NNN ..."
  int status = 0;
  if (!absl::StartsWith(answer, "HTTP/1.") || answer.size() < 12 ||
      !absl::SimpleAtoi(absl::string_view(answer).substr(9, 3), &status) ||
      status < 100 || status > 599) {
    return Failed("its answer is not HTTP", proxy);
  }
  return status;
}

absl::Status ProxyConnectRefusal(int status, absl::string_view target,
                                 absl::string_view proxy_shown,
                                 absl::string_view detail) {
  const std::string tail =
      detail.empty() ? std::string() : absl::StrCat(" (", detail, ")");
  if (status == 407 || status == 401) {
    return Error(absl::StatusCode::kUnavailable, reason::kProxyAuth,
                 absl::StrCat("the HTTP proxy ", proxy_shown,
                              " rejected the credentials for the CONNECT to ",
                              target, " with status ", status,
                              ": check the proxy user and password", tail));
  }
  if (status >= 500) {
    return Error(absl::StatusCode::kUnavailable, reason::kProxyFailed,
                 absl::StrCat("the HTTP proxy ", proxy_shown,
                              " could not open the tunnel to ", target,
                              " (status ", status, ")", tail));
  }
  return Error(
      absl::StatusCode::kUnavailable, reason::kProxyRefused,
      absl::StrCat("the HTTP proxy ", proxy_shown, " refused the CONNECT to ",
                   target, " with status ", status,
                   "; check the proxy's allow rules (the ports and "
                   "hosts it may tunnel to)",
                   tail));
}

absl::Status RefineHttpProxyFailure(absl::Status status,
                                    const config::ProxyConfig& proxy,
                                    absl::string_view host, int port,
                                    absl::string_view lws_text,
                                    absl::Duration timeout) {
  if (!HasReason(status, reason::kProxyAuth)) return status;
  absl::StatusOr<int> answer =
      ProbeHttpConnectStatus(proxy, host, port, timeout);
  if (!answer.ok()) {
    LogDebug(absl::StrCat("LINK: ", answer.status().message()));
    return status;
  }
  if (*answer == 200) return status;
  return ProxyConnectRefusal(*answer, absl::StrCat(host, ":", port),
                             proxy.Redacted(), lws_text);
}

}  // namespace cloudlink::transport

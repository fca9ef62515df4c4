#include "server/api/tcp_listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cloudlink::api {

absl::StatusOr<TcpListenSockets> ListenTcp(const std::string& address,
                                           int backlog) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return absl::UnavailableError("no port");
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int resolved = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                   port.c_str(), &hints, &found);
  if (resolved != 0) return absl::UnavailableError(gai_strerror(resolved));

  TcpListenSockets sockets;
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family,
                          ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    // With port 0, every address gets the port the first one was given.
    if (sockets.port != 0) {
      if (ai->ai_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_port =
            htons(sockets.port);
      } else if (ai->ai_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_port =
            htons(sockets.port);
      }
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, backlog) != 0) {
      last_error = strerror(errno);
      close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0) {
      sockets.port =
          bound.ss_family == AF_INET
              ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
              : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    }
    sockets.fds.push_back(fd);
  }
  freeaddrinfo(found);
  if (sockets.fds.empty()) return absl::UnavailableError(last_error);
  return sockets;
}

std::string PeerAddress(const sockaddr_storage& addr, std::string* source) {
  char text[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
    *source = text;
    return absl::StrCat("ipv4:", text, ":", port);
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
  port = ntohs(in6->sin6_port);
  *source = text;
  return absl::StrCat("ipv6:[", text, "]:", port);
}

}  // namespace cloudlink::api

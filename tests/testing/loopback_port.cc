#include "tests/testing/loopback_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"

namespace cloudlink::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

absl::Status NoFreePort(absl::string_view why) {
  return Error(absl::StatusCode::kUnavailable, reason::kNoFreePort,
               absl::StrCat("cannot pick a free loopback port: ", why));
}

}  // namespace

absl::StatusOr<int> PickFreeLoopbackPort() {
  static std::mutex mu;
  static std::set<int>* given = new std::set<int>();
  std::lock_guard<std::mutex> lock(mu);
  // The kernel may hand out a port again once it was released; a few
  // attempts find one this process has not had yet.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return NoFreePort(strerror(errno));
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof(addr);
    const bool bound =
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    const int error = errno;
    close(fd);
    if (!bound) return NoFreePort(strerror(error));
    const int port = ntohs(addr.sin_port);
    if (given->insert(port).second) return port;
  }
  return NoFreePort("the kernel keeps handing out ports given before");
}

bool LoopbackPortAcceptsConnections(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = Loopback(port);
  const bool ok =
      connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

absl::StatusOr<std::unique_ptr<LoopbackListener>> LoopbackListener::Open(
    int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return NoFreePort(strerror(errno));
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      listen(fd, backlog) != 0) {
    const int error = errno;
    close(fd);
    return NoFreePort(strerror(error));
  }
  return std::unique_ptr<LoopbackListener>(
      new LoopbackListener(fd, ntohs(addr.sin_port)));
}

LoopbackListener::~LoopbackListener() { close(fd_); }

}  // namespace cloudlink::testing

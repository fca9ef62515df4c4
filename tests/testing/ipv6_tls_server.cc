#include "tests/testing/ipv6_tls_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "absl/time/clock.h"

namespace cloudlink::testing {

Ipv6TlsServer::Ipv6TlsServer(const std::string& cert, const std::string& key,
                             absl::Duration wait, Answer answer)
    : wait_(wait), answer_(std::move(answer)) {
  fd_ = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd_, 4) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr ||
      SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return;
  }
  port_ = ntohs(addr.sin6_port);
  thread_ = std::thread([this] { Serve(); });
}

Ipv6TlsServer::~Ipv6TlsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

std::string Ipv6TlsServer::Received() {
  if (thread_.joinable()) thread_.join();
  return received_;
}

bool Ipv6TlsServer::Readable(int fd) {
  const absl::Time deadline = absl::Now() + wait_;
  while (!stop_ && absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) return true;
  }
  return false;
}

void Ipv6TlsServer::Serve() {
  if (!Readable(fd_)) return;
  const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, client);
  if (SSL_accept(ssl) == 1) {
    handshake_done_ = true;
    char buf[4096];
    // Until the client closes, stops sending for `wait_`, or has sent the
    // headers of its first request.
    while (SSL_pending(ssl) > 0 || Readable(client)) {
      const int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) break;
      received_.append(buf, static_cast<size_t>(n));
      if (received_.find("\r\n\r\n") != std::string::npos) break;
    }
    if (answer_ && received_.find("\r\n\r\n") != std::string::npos) {
      // Corked: the records leave together when it is lifted.
      int on = 1;
      setsockopt(client, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
      for (const std::string& record : answer_(received_)) {
        if (SSL_write(ssl, record.data(), static_cast<int>(record.size())) <=
            0) {
          break;
        }
      }
      on = 0;
      setsockopt(client, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
      while (SSL_pending(ssl) > 0 || Readable(client)) {
        if (SSL_read(ssl, buf, sizeof(buf)) <= 0) break;
      }
    }
  }
  SSL_free(ssl);
  close(client);
}

}  // namespace cloudlink::testing

#pragma once

// A one-shot TLS server on [::1] for tests of what a client sends to an
// IPv6-literal peer: it listens on a port the kernel picks, accepts one
// connection, completes the TLS handshake if the client does, and records
// every byte the client sends after it (up to the end of the first HTTP
// request's headers). A client that refuses the certificate sends nothing,
// so Received() stays empty.
//
// With an `answer`, the server then writes what it returns for the request,
// each string in a TLS record of its own, all in one TCP segment where they
// fit (a scripted peer: a WebSocket upgrade and frames, say), and reads and
// drops what the client sends until it closes or `wait` passes.
//
// Thread-safe: the constructor starts the serving thread; Received() joins
// it. Every wait is bounded by `wait`.

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace cloudlink::testing {

class Ipv6TlsServer {
 public:
  // `cert` (a PEM chain) and `key` (PEM) are what the server presents. On
  // any set-up failure port() is 0.
  using Answer =
      std::function<std::vector<std::string>(const std::string& request)>;
  Ipv6TlsServer(const std::string& cert, const std::string& key,
                absl::Duration wait, Answer answer = nullptr);
  ~Ipv6TlsServer();
  Ipv6TlsServer(const Ipv6TlsServer&) = delete;
  Ipv6TlsServer& operator=(const Ipv6TlsServer&) = delete;

  int port() const { return port_; }
  // What arrived after the handshake, once the one connection ended (or no
  // connection came within `wait`).
  std::string Received();
  bool handshake_done() const { return handshake_done_; }

 private:
  bool Readable(int fd);
  void Serve();

  const absl::Duration wait_;
  const Answer answer_;
  int fd_ = -1;
  int port_ = 0;
  SSL_CTX* ctx_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> handshake_done_{false};
  std::string received_;
};

}  // namespace cloudlink::testing

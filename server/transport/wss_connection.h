#pragma once

// One WebSocket-over-TLS connection to the cloud's MQTT endpoint, on
// libwebsockets 4.1 with OpenSSL (docs/protocol.md):
//
//   TCP (10 s) → proxy (10 s) → TLS (SNI = endpoint host, verification) →
//   GET <endpoint path> Upgrade: websocket, Sec-WebSocket-Protocol: mqtt
//
// Proxies: direct, HTTP CONNECT (through lws, set explicitly from the given
// ProxyConfig — never lws's own read of http_proxy), SOCKS5 / SOCKS5h
// (through an in-process relay: lws connects to a loopback endpoint of ours,
// the relay does the SOCKS5 handshake upstream and copies bytes, so TLS and
// the upgrade stay end to end).
//
// Threading: everything except Wake() runs on one thread, the owner's (the
// link thread), which calls Service() in a loop; listener callbacks run on
// that thread from inside Service() only (never from inside Connect(), Send()
// or Close()). Wake() is thread-safe, but must not race the connection's
// destruction. Never destroy the connection from inside a listener callback;
// destroy it after Service() returns.
//
// The link never names an implementation: it gets a WssConnector, so tests
// can hand it a connection that replays scripted bytes
// (tests/server/link/fake_wss_connector.h) and the daemon hands it
// LwsWssConnector (lws_wss_connection.h).

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/proxy.h"

namespace cloudlink::transport {

struct WssTarget {
  std::string url;            // wss://host[:port]/path
  config::ProxyConfig proxy;  // resolved: kDirect, kHttp, kSocks5, kSocks5h
  bool insecure = false;      // accept self-signed / mismatched certificates
  std::string ca_file;        // extra trusted CAs (PEM); "" → system store
  absl::Duration tcp_timeout = absl::Seconds(10);
  absl::Duration proxy_timeout = absl::Seconds(10);
  absl::Duration connect_budget =
      absl::Seconds(120);  // open must happen by then
};

class WssListener {
 public:
  virtual ~WssListener() = default;
  // The WebSocket is open (subprotocol mqtt accepted).
  virtual void OnOpen() = 0;
  // Payload bytes of binary messages, in order (message boundaries are not
  // meaningful for MQTT).
  virtual void OnData(absl::string_view bytes) = 0;
  // Called once, after which the connection is dead (Send() is ignored;
  // Service() keeps working). `why` is OK for a close the owner
  // asked for; otherwise UNAVAILABLE with a reason:
  //   CONNECT_FAILED      DNS, refused, timed out (message "connection refused"
  //                       etc. where known)
  //   TLS_VERIFY_FAILED   "TLS certificate verification failed"
  //   TLS_FAILED          other TLS trouble
  //   PROXY_FAILED        "proxy negotiation failed"
  //   PROXY_AUTH          the proxy refused our credentials (HTTP 407, SOCKS5)
  //   WS_UPGRADE_FAILED   the server refused the upgrade (HTTP status named)
  //   CONNECTION_LOST     closed or reset after open (close code named)
  //   CONNECT_TIMEOUT     not open within connect_budget
  virtual void OnClosed(const absl::Status& why) = 0;
  // Wake() was called (possibly several times; coalesced).
  virtual void OnWake() = 0;
};

class WssConnection {
 public:
  virtual ~WssConnection() = default;  // closes without a close frame if open

  // Runs the event loop until at least one event was handled or `max_wait`
  // passed (lws 4.1 ignores its own timeout, so this uses an lws_sul timer
  // internally). Durations, not wall-clock times: the link keeps time on the
  // monotonic clock.
  virtual void Service(absl::Duration max_wait) = 0;

  // Queues `bytes` to go out as binary WebSocket data (one or more frames of
  // at most 64 KiB; many queued writes may be coalesced into one frame).
  // Only after OnOpen; ignored before it and after OnClosed.
  virtual void Send(absl::string_view bytes) = 0;
  // Bytes queued and not yet handed to the TLS layer.
  virtual size_t pending_bytes() const = 0;

  // Sends a WebSocket close (1000) after the queued bytes, then closes;
  // OnClosed(OK) follows. Before OnOpen it abandons the attempt (OnClosed(OK)
  // from the next Service()). No-op after OnClosed.
  virtual void Close() = 0;

  // Thread-safe: makes Service() return soon and OnWake() run.
  virtual void Wake() = 0;

  // Watches `fd` (the caller's; it stays open while watched) for input in
  // the same poll as the connection: `on_readable` runs on the owner's
  // thread, from inside Service(), whenever fd is readable (level-
  // triggered: again and again until it was read), until it returns false,
  // which ends the watch. Destroying the connection ends it too. At most one
  // watch at a time. Errors: INTERNAL TRANSPORT_FAILED when fd cannot be
  // watched.
  virtual absl::Status Watch(int fd, std::function<bool()> on_readable) = 0;
};

// Makes connections. Implementations are thread-compatible: the link calls
// Connect() from its own thread only.
class WssConnector {
 public:
  virtual ~WssConnector() = default;
  // Starts connecting to `target`; `listener` must outlive the connection.
  // Errors here are only for set-up (bad URL: URL_INVALID, an lws context
  // that cannot be made); everything after is reported through
  // listener->OnClosed().
  virtual absl::StatusOr<std::unique_ptr<WssConnection>> Connect(
      const WssTarget& target, WssListener* listener) = 0;
};

}  // namespace cloudlink::transport

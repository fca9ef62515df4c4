#include "server/transport/lws_wss_connection.h"

#include <fcntl.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/types/optional.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/socks5/socks5_relay.h"
#include "server/transport/http_proxy_probe.h"
#include "server/transport/lws_connection_error.h"
#include "server/transport/lws_http_proxy.h"
#include "server/transport/lws_log.h"
#include "server/transport/lws_tls_verify.h"
#include "server/transport/wss_url.h"
#include "server/websocket/websocket_frame.h"
#include "server/websocket/ws_send_queue.h"

namespace cloudlink::transport {
namespace {

// Largest WebSocket frame payload we write; queued bytes beyond it wait for
// the next WRITEABLE callback.
constexpr size_t kMaxFrame = 64 * 1024;
// lws 4.1 hands at most the protocol's tx_packet_size (+ LWS_PRE + 4) to one
// TLS write and buffers the rest; this lets a whole frame go in one.
constexpr size_t kMaxFrameOnWire =
    kMaxFrame + websocket::kWsMaxClientHeaderSize;
// How long asking an HTTP proxy why it refused our CONNECT may take.
constexpr absl::Duration kProxyProbeTimeout = absl::Seconds(2);
absl::Status Unavailable(const Reason& reason, absl::string_view sentence) {
  return Error(absl::StatusCode::kUnavailable, reason, sentence);
}

// RFC 6455 section 10.3: a fresh, unpredictable key for every frame.
websocket::WsMaskKey RandomWsMaskKey() {
  websocket::WsMaskKey key;
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    // OpenSSL's DRBG failing is not something the link can work around.
    LogError("LINK: RAND_bytes failed; cannot mask WebSocket frames");
    std::abort();
  }
  return key;
}

unsigned int WholeSecondsAtLeastOne(absl::Duration d) {
  const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
  return static_cast<unsigned int>(std::max<int64_t>(1, seconds));
}

lws_usec_t Micros(absl::Duration d) {
  return static_cast<lws_usec_t>(
      std::max<int64_t>(1, absl::ToInt64Microseconds(d)));
}

// A sul that knows its owner (the sul must be the first member).
template <typename Owner>
struct OwnedSul {
  lws_sorted_usec_list_t sul;
  Owner* owner;
};

class LwsWssConnection final : public WssConnection {
 public:
  LwsWssConnection(const WssTarget& target, WssUrl url, WssListener* listener)
      : target_(target),
        url_(std::move(url)),
        listener_(listener),
        out_(&RandomWsMaskKey, kMaxFrame) {
    std::memset(&service_sul_, 0, sizeof(service_sul_));
    std::memset(&budget_sul_, 0, sizeof(budget_sul_));
    service_sul_.owner = budget_sul_.owner = this;
    std::memset(protocols_, 0, sizeof(protocols_));
    protocols_[0].name = "mqtt";
    protocols_[0].callback = &LwsWssConnection::Callback;
    protocols_[0].rx_buffer_size = 16 * 1024;
    protocols_[0].tx_packet_size = kMaxFrameOnWire;
    frame_.reserve(LWS_PRE + kMaxFrameOnWire);
  }

  ~LwsWssConnection() override {
    destroying_ = true;  // lws calls back while tearing down; stay silent
    if (context_ != nullptr) lws_context_destroy(context_);
    relay_.reset();
  }

  absl::Status Start();

  // TLS reads ahead once the WebSocket is open (LWS_CALLBACK_CLIENT_-
  // ESTABLISHED): one read() takes every record the socket holds (a burst
  // of PUBACKs), where OpenSSL otherwise reads each record's 5-byte header
  // and then its body, two system calls per PUBACK. lws hands on one record
  // per readable event, and records already in OpenSSL's buffer raise no
  // event: they are handed to lws here, in the same pass, one whole record
  // a round, whatever it holds (data, part of a frame, a control frame lws
  // handles itself). A partial record waits for the rest of its bytes,
  // which the socket reports. Bounded per pass.
  void DeliverReadAhead() {
    constexpr int kMaxRounds = 4096;
    for (int round = 0; round < kMaxRounds; ++round) {
      if (wsi_ == nullptr || !open_ || closed_reported_ ||
          pending_close_.has_value()) {
        return;
      }
      SSL* ssl = lws_get_ssl(wsi_);
      if (ssl == nullptr || !SSL_has_pending(ssl)) return;
      // A whole record is there when SSL_peek can decrypt one (it does not
      // consume it); otherwise it wants the rest from the socket.
      char first;
      ERR_clear_error();
      const int peeked = SSL_peek(ssl, &first, 1);
      ERR_clear_error();
      if (peeked <= 0) return;
      lws_pollfd readable{};
      readable.fd = lws_get_socket_fd(wsi_);
      readable.events = POLLIN;
      readable.revents = POLLIN;
      if (lws_service_fd(context_, &readable) < 0) return;
    }
  }

  void Service(absl::Duration max_wait) override {
    if (pending_close_.has_value()) {
      const absl::Status why = *std::move(pending_close_);
      pending_close_.reset();
      if (!destroying_) listener_->OnClosed(why);
      return;
    }
    // lws_service() ignores its timeout in 4.1; a sul bounds the poll wait.
    service_timed_out_ = false;
    lws_sul_schedule(context_, 0, &service_sul_.sul, &OnServiceSul,
                     Micros(max_wait));
    servicing_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    lws_service(context_, 0);
    DeliverReadAhead();
    servicing_.store(std::thread::id(), std::memory_order_relaxed);
    lws_sul_schedule(context_, 0, &service_sul_.sul, &OnServiceSul,
                     LWS_SET_TIMER_USEC_CANCEL);
    // A wake whose cancel lws has not delivered yet is taken here, so the
    // flag never stays set (Wake() would then never cancel again).
    if (!destroying_ && !pending_close_.has_value() &&
        wake_requested_.exchange(false, std::memory_order_acq_rel)) {
      listener_->OnWake();
    }
  }

  void Send(absl::string_view bytes) override {
    if (wsi_ == nullptr || !open_ || close_requested_ || bytes.empty()) return;
    out_.Append(bytes);
    lws_callback_on_writable(wsi_);
  }

  size_t pending_bytes() const override { return out_.pending_bytes(); }

  void Close() override {
    if (closed_reported_ || close_requested_) return;
    close_requested_ = true;
    if (wsi_ != nullptr && open_) {
      lws_callback_on_writable(wsi_);
      return;
    }
    // Not open (yet): abandon the attempt; OnClosed(OK) comes from the next
    // Service(), as every listener call does.
    if (wsi_ != nullptr) {
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    closed_reported_ = true;
    pending_close_ = absl::OkStatus();
  }

  absl::Status Watch(int fd, std::function<bool()> on_readable) override {
    // lws closes the descriptor it watches when the watch ends: it gets a
    // copy (the same open file).
    const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      return Error(
          absl::StatusCode::kInternal, reason::kTransportFailed,
          absl::StrCat("cannot watch a descriptor: ", strerror(errno)));
    }
    on_readable_ = std::move(on_readable);
    lws_sock_file_fd_type desc;
    desc.filefd = copy;
    lws* watch = lws_adopt_descriptor_vhost(
        lws_get_vhost_by_name(context_, "default"), LWS_ADOPT_RAW_FILE_DESC,
        desc, protocols_[0].name, nullptr);
    if (watch == nullptr) {
      close(copy);
      on_readable_ = nullptr;
      return Error(absl::StatusCode::kInternal, reason::kTransportFailed,
                   "libwebsockets cannot watch a descriptor");
    }
    watch_wsi_ = watch;
    return absl::OkStatus();
  }

  void Wake() override {
    // One lws_cancel_service (a pipe write and a wake-up of the link
    // thread) per wake the thread has not yet taken: a producer pushing
    // many messages while the thread is busy costs no syscall per message.
    // A wake from inside Service() itself (a callback, such as the
    // watched descriptor's, that queued work) needs no pipe: Service()
    // takes the flag when lws_service() returns.
    if (!wake_requested_.exchange(true, std::memory_order_acq_rel) &&
        servicing_.load(std::memory_order_relaxed) !=
            std::this_thread::get_id()) {
      lws_cancel_service(context_);
    }
  }

 private:
  static int Callback(lws* wsi, lws_callback_reasons reason, void* user,
                      void* in, size_t len);
  static void OnServiceSul(lws_sorted_usec_list_t* sul) {
    reinterpret_cast<OwnedSul<LwsWssConnection>*>(sul)
        ->owner->service_timed_out_ = true;
  }
  static void OnBudgetSul(lws_sorted_usec_list_t* sul) {
    reinterpret_cast<OwnedSul<LwsWssConnection>*>(sul)->owner->OnBudget();
  }

  void OnBudget() {
    if (open_ || closed_reported_) return;
    if (wsi_ != nullptr) {
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    ReportClosed(Unavailable(
        reason::kConnectTimeout,
        absl::StrCat("the WebSocket to ", url_.host, ":", url_.port,
                     " was not open within ",
                     absl::FormatDuration(target_.connect_budget))));
  }

  int OnWriteable();
  void OnConnectionError(absl::string_view lws_text);
  void OnClientClosed();

  // Calls OnClosed once; inside Start() it is held for the first Service().
  void ReportClosed(absl::Status why) {
    if (closed_reported_ || destroying_) return;
    closed_reported_ = true;
    if (starting_) {
      pending_close_ = std::move(why);
      return;
    }
    listener_->OnClosed(why);
  }

  // What the relay learned beats lws's view of the same failure.
  absl::optional<absl::Status> RelayFailure() const {
    if (relay_ == nullptr) return absl::nullopt;
    auto status = relay_->handshake_status();
    if (status.has_value() && !status->ok()) return status;
    return absl::nullopt;
  }

  const WssTarget target_;
  const WssUrl url_;
  WssListener* const listener_;
  std::string host_header_;
  std::string relay_address_;
  std::string proxy_setting_;
  lws_protocols protocols_[2];
  lws_context* context_ = nullptr;
  lws* wsi_ = nullptr;
  std::unique_ptr<socks5::Socks5Relay> relay_;
  OwnedSul<LwsWssConnection> service_sul_;
  OwnedSul<LwsWssConnection> budget_sul_;
  std::atomic<bool> wake_requested_{false};
  // The thread inside lws_service(), if any.
  std::atomic<std::thread::id> servicing_{};
  lws* watch_wsi_ = nullptr;  // Watch()'s
  std::function<bool()> on_readable_;
  bool service_timed_out_ = false;
  bool starting_ = false;
  bool open_ = false;
  bool close_requested_ = false;
  bool closed_reported_ = false;
  bool destroying_ = false;
  absl::optional<absl::Status> pending_close_;
  int peer_close_code_ = -1;  // from the server's close frame, if any
  std::string peer_close_reason_;
  std::string tls_verify_error_;  // first OpenSSL verification error seen
  long tls_verify_code_ = 0;      // its X509_V_ERR_* code
  bool verify_ip_ = false;        // the host is an IPv6 literal to verify
  bool ip_verification_installed_ = false;  // on the client SSL_CTX
  websocket::WsSendQueue out_;  // queued data, framed and masked by us
  std::string frame_;           // LWS_PRE headroom + one finished frame
};

absl::Status LwsWssConnection::Start() {
  RouteLwsLogging();
  const config::ProxyConfig& proxy = target_.proxy;
  absl::StatusOr<std::string> proxy_setting = LwsHttpProxyAddress(proxy);
  if (!proxy_setting.ok()) return proxy_setting.status();
  proxy_setting_ = *std::move(proxy_setting);
  if (proxy.kind == config::ProxyKind::kSocks5 ||
      proxy.kind == config::ProxyKind::kSocks5h) {
    socks5::Socks5RelayOptions options;
    options.proxy = proxy;
    options.target_host = url_.host;
    options.target_port = url_.port;
    options.connect_timeout = target_.tcp_timeout;
    options.handshake_timeout = target_.proxy_timeout;
    auto relay = socks5::Socks5Relay::Start(std::move(options));
    if (!relay.ok()) return relay.status();
    relay_ = *std::move(relay);
    relay_address_ = "+" + relay_->socket_path();
  }

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols_;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  info.gid = -1;
  info.uid = -1;
  info.fd_limit_per_thread = 16;
  info.connect_timeout_secs = WholeSecondsAtLeastOne(target_.tcp_timeout);
  info.timeout_secs = WholeSecondsAtLeastOne(target_.proxy_timeout);
  info.http_proxy_address = proxy_setting_.c_str();
  if (!target_.ca_file.empty()) {
    info.client_ssl_ca_filepath = target_.ca_file.c_str();
  }
  // lws 4.1 cuts the name it verifies at the first ':', so an IPv6 literal
  // would be checked against nothing. The address goes on the client
  // SSL_CTX instead, as it is made (LOAD_EXTRA_CLIENT_VERIFY_CERTS); every
  // connection's SSL inherits it, and a certificate without that IP address
  // fails the handshake before a byte of the WebSocket request is sent.
  verify_ip_ = !target_.insecure && url_.host.find(':') != std::string::npos;
  context_ = lws_create_context(&info);
  // lws copied what it needs; the credentials need not stay around.
  std::fill(proxy_setting_.begin(), proxy_setting_.end(), '\0');
  if (context_ == nullptr) {
    return Error(absl::StatusCode::kInternal, reason::kTransportFailed,
                 "cannot create the libwebsockets context (is the CA file "
                 "readable PEM?)");
  }
  if (verify_ip_ && !ip_verification_installed_) {
    return Unavailable(
        reason::kTlsVerifyFailed,
        absl::StrCat("cannot verify a certificate for the IPv6 address ",
                     url_.host, "; not connecting"));
  }

  // Host header, SNI and verification name: lws cuts at the first ':' for
  // SNI/verification, so "host:port" is safe for names and IPv4.
  const bool ipv6_host = url_.host.find(':') != std::string::npos;
  host_header_ = (url_.port == 443 || ipv6_host)
                     ? url_.host
                     : absl::StrCat(url_.host, ":", url_.port);

  lws_client_connect_info connect;
  std::memset(&connect, 0, sizeof(connect));
  connect.context = context_;
  connect.address =
      relay_ != nullptr ? relay_address_.c_str() : url_.host.c_str();
  connect.port = url_.port;
  connect.ssl_connection = LCCSCF_USE_SSL;
  if (target_.insecure) {
    connect.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
                              LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                              LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  }
  connect.path = url_.path.c_str();
  connect.host = host_header_.c_str();
  connect.origin = host_header_.c_str();
  connect.protocol = "mqtt";
  connect.pwsi = &wsi_;

  LogDebug(absl::StrCat(
      "LINK: connecting to wss://", host_header_, url_.path, " (",
      relay_ != nullptr
          ? "through the SOCKS5 relay to "
          : (proxy.kind == config::ProxyKind::kHttp ? "HTTP CONNECT through "
                                                    : ""),
      proxy.Redacted(), target_.insecure ? ", TLS not verified" : "", ")"));
  lws_sul_schedule(context_, 0, &budget_sul_.sul, &OnBudgetSul,
                   Micros(target_.connect_budget));
  starting_ = true;
  lws* wsi = lws_client_connect_via_info(&connect);
  starting_ = false;
  if (wsi == nullptr) {
    // lws 4.1 can fail here without CLIENT_CONNECTION_ERROR (DNS, or the
    // relay's socket already gone after a failed SOCKS5 handshake).
    wsi_ = nullptr;
    starting_ = true;
    OnConnectionError("");
    starting_ = false;
  }
  return absl::OkStatus();
}

int LwsWssConnection::OnWriteable() {
  if (wsi_ == nullptr) return 0;
  if (out_.pending_bytes() > 0) {
    // One frame of everything queued (up to the cap), built and masked a
    // word at a time by WsSendQueue; lws's own client masking runs byte by
    // byte. LWS_WRITE_RAW (= LWS_WRITE_HTTP) makes lws 4.1's ws role skip
    // framing and masking and pass the bytes straight to lws_issue_raw()
    // (rops_write_role_protocol_ws, "goto send_raw"). Control frames stay
    // lws's: it answers pings and sends the close frame (lws_close_reason)
    // itself, only between our frames, since it sends them from its own
    // WRITEABLE handling, which waits for buffered output to drain.
    frame_.assign(LWS_PRE, '\0');
    out_.TakeFrame(&frame_);
    // lws 4.1 takes the whole frame: what the socket does not accept now it
    // buffers and sends itself, holding back WRITEABLE until then. So one
    // write per callback, and never a second write before the next one.
    if (lws_write(wsi_, reinterpret_cast<unsigned char*>(&frame_[LWS_PRE]),
                  frame_.size() - LWS_PRE, LWS_WRITE_RAW) < 0) {
      return -1;  // CLIENT_CLOSED follows
    }
    if (out_.pending_bytes() > 0 || close_requested_) {
      lws_callback_on_writable(wsi_);
    }
    return 0;
  }
  if (close_requested_) {
    lws_close_reason(wsi_, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
    return -1;  // lws sends the close frame, then CLIENT_CLOSED follows
  }
  return 0;
}

void LwsWssConnection::OnConnectionError(absl::string_view lws_text) {
  wsi_ = nullptr;
  if (closed_reported_) return;
  if (auto relay_failure = RelayFailure(); relay_failure.has_value()) {
    ReportClosed(*relay_failure);
    return;
  }
  if (!tls_verify_error_.empty()) {
    ReportClosed(TlsVerifyFailed(url_.host, tls_verify_error_, tls_verify_code_,
                                 absl::Now()));
    return;
  }
  // lws 4.1 says only "Unable to connect" for refused, unreachable and
  // timed-out connects alike; the errno is gone by the time we hear of it.
  const std::string text(lws_text);
  absl::Status status = StatusFromLwsConnectionError(
      text, target_.proxy.kind == config::ProxyKind::kHttp);
  if (target_.proxy.kind == config::ProxyKind::kHttp) {
    // lws dropped the proxy's status: a policy refusal must not read as a
    // credentials problem. Blocks the link thread for at most
    // kProxyProbeTimeout, on a failed connect.
    status = RefineHttpProxyFailure(std::move(status), target_.proxy, url_.host,
                                    url_.port, text, kProxyProbeTimeout);
  }
  if (relay_ != nullptr && HasReason(status, reason::kConnectFailed)) {
    status = Unavailable(reason::kProxyFailed,
                         absl::StrCat("proxy negotiation failed: the SOCKS5 "
                                      "relay closed (",
                                      lws_text, ")"));
  }
  ReportClosed(status);
}

void LwsWssConnection::OnClientClosed() {
  wsi_ = nullptr;
  const bool was_open = open_;
  open_ = false;
  if (closed_reported_) return;
  if (close_requested_) {
    ReportClosed(absl::OkStatus());
    return;
  }
  if (!was_open) {
    OnConnectionError("closed before the WebSocket was open");
    return;
  }
  std::string detail = "the connection was closed or reset";
  if (peer_close_code_ >= 0) {
    detail = absl::StrCat(
        "the server closed the WebSocket (close code ", peer_close_code_,
        peer_close_reason_.empty() ? "" : ": ", peer_close_reason_, ")");
  }
  ReportClosed(Unavailable(reason::kConnectionLost, detail));
}

int LwsWssConnection::Callback(lws* wsi, lws_callback_reasons reason,
                               void* user, void* in, size_t len) {
  auto* self =
      static_cast<LwsWssConnection*>(lws_context_user(lws_get_context(wsi)));
  if (self == nullptr || self->destroying_) return 0;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      self->OnConnectionError(
          in != nullptr
              ? absl::string_view(static_cast<const char*>(in),
                                  strnlen(static_cast<const char*>(in), 256))
              : absl::string_view());
      return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (LogEnabled(LogLevel::kDebug)) {
        SSL* ssl = lws_get_ssl(wsi);
        LogDebug(absl::StrCat("LINK: TLS ",
                              ssl != nullptr
                                  ? absl::StrCat(SSL_get_version(ssl), " ",
                                                 SSL_get_cipher_name(ssl))
                                  : std::string("?"),
                              " and the WebSocket upgrade done"));
      }
      self->wsi_ = wsi;
      self->open_ = true;
      if (SSL* ssl = lws_get_ssl(wsi); ssl != nullptr) {
        SSL_set_read_ahead(ssl, 1);  // DeliverReadAhead
      }
      lws_sul_schedule(self->context_, 0, &self->budget_sul_.sul, &OnBudgetSul,
                       LWS_SET_TIMER_USEC_CANCEL);
      if (self->close_requested_ || self->closed_reported_) return -1;
      self->listener_->OnOpen();
      if (self->wsi_ != nullptr &&
          (self->pending_bytes() > 0 || self->close_requested_)) {
        lws_callback_on_writable(self->wsi_);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (!self->closed_reported_ && len > 0) {
        self->listener_->OnData(
            absl::string_view(static_cast<const char*>(in), len));
      }
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return self->OnWriteable();
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (in != nullptr && len >= 2) {
        const auto* bytes = static_cast<const unsigned char*>(in);
        self->peer_close_code_ = (bytes[0] << 8) | bytes[1];
        self->peer_close_reason_.assign(
            reinterpret_cast<const char*>(bytes) + 2,
            std::min<size_t>(len - 2, 123));
      } else {
        self->peer_close_code_ = 1005;  // no status code present
      }
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      self->OnClientClosed();
      return 0;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS:
      // user: the client SSL_CTX, while the context is made.
      if (self->verify_ip_ && user != nullptr) {
        self->ip_verification_installed_ =
            InstallIpVerification(static_cast<SSL_CTX*>(user), self->url_.host);
      }
      return 0;
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
      // user: X509_STORE_CTX*, len: OpenSSL's preverify_ok. Only noted; lws
      // decides (and honours the insecure flags).
      if (user != nullptr) {
        NoteCertVerification(static_cast<X509_STORE_CTX*>(user), len != 0,
                             &self->tls_verify_error_, &self->tls_verify_code_);
      }
      return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
      // The watched descriptor (Watch) is readable; false ends the watch.
      if (wsi == self->watch_wsi_ && self->on_readable_ &&
          self->on_readable_()) {
        return 0;
      }
      return -1;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      if (wsi == self->watch_wsi_) {
        self->watch_wsi_ = nullptr;
        self->on_readable_ = nullptr;
      }
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      // Safety net: lws 4.1 drops some failed attempts without any other
      // callback.
      if (wsi == self->wsi_) {
        if (self->open_) {
          self->OnClientClosed();
        } else {
          self->OnConnectionError("");
        }
      }
      return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      if (self->wake_requested_.exchange(false, std::memory_order_acq_rel)) {
        self->listener_->OnWake();
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<WssConnection>> LwsWssConnector::Connect(
    const WssTarget& target, WssListener* listener) {
  auto url = ParseWssUrl(target.url);
  if (!url.ok()) return url.status();
  auto connection =
      std::make_unique<LwsWssConnection>(target, *std::move(url), listener);
  absl::Status started = connection->Start();
  if (!started.ok()) return started;
  return std::unique_ptr<WssConnection>(std::move(connection));
}

}  // namespace cloudlink::transport

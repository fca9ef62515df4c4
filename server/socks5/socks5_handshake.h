#pragma once

// The client side of a SOCKS5 handshake (RFC 1928) with user/password
// authentication (RFC 1929), as pure functions over byte strings. The relay
// (socks5_relay.h) drives the socket; this file only knows the bytes:
//
//   us → EncodeGreeting              05 n methods...
//   proxy → ParseMethodSelection     05 method
//   us → EncodeUserPassRequest       01 ulen user plen password   (method 02)
//   proxy → ParseUserPassReply       01 status
//   us → EncodeConnectRequest        05 01 00 atyp addr port
//   proxy → ParseConnectReply        05 rep 00 atyp addr port
//
// Parse* functions take all bytes received so far for that step and return
// the number of bytes the reply occupies (> 0) once it is complete, 0 when
// more bytes are needed, or an error as soon as the bytes seen prove the
// reply bad (a failure code needs only the first two bytes). Bytes after the
// returned count belong to the next step (after CONNECT: to the tunnel).
//
// Errors are UNAVAILABLE with reason PROXY_FAILED (the proxy did not
// cooperate; the message says how, e.g. the meaning of a CONNECT reply code)
// or PROXY_AUTH (the proxy refused us for lack of, or wrong, credentials), and
// INVALID_ARGUMENT with PROXY_INVALID for inputs that cannot be encoded.
// Messages never contain the user name or password.
//
// Thread-safety: all functions are pure, except ResolveDestination (which
// calls getaddrinfo and is thread-safe).

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::socks5 {

inline constexpr uint8_t kVersion = 0x05;
inline constexpr uint8_t kMethodNoAuth = 0x00;
inline constexpr uint8_t kMethodUserPass = 0x02;
inline constexpr uint8_t kMethodNoneAcceptable = 0xFF;

// Offers "no authentication" and, when `offer_user_pass`, also user/password.
std::string EncodeGreeting(bool offer_user_pass);

// Parses the method selection (2 bytes) into `*method`, which is then
// kMethodNoAuth, or kMethodUserPass if it was offered. 0xFF is PROXY_AUTH when
// we offered no credentials (the proxy wants some) and PROXY_FAILED when we
// did; any other method, or a version byte other than 5, is PROXY_FAILED.
absl::StatusOr<size_t> ParseMethodSelection(absl::string_view received,
                                            bool offered_user_pass,
                                            uint8_t* method);

// RFC 1929 request. The user name must be 1..255 bytes, the password
// 0..255 bytes; otherwise PROXY_INVALID.
absl::StatusOr<std::string> EncodeUserPassRequest(absl::string_view user,
                                                  absl::string_view password);

// Parses the 2-byte RFC 1929 reply: status 0 is success, anything else is
// PROXY_AUTH. The version byte must be 1 (5 is accepted too, as some proxies
// send it); other values are PROXY_FAILED.
absl::StatusOr<size_t> ParseUserPassReply(absl::string_view received);

// Where CONNECT should go: a host name the proxy resolves (socks5h), or an
// address we resolved (socks5).
struct Destination {
  enum class Type : uint8_t { kIpv4 = 0x01, kDomain = 0x03, kIpv6 = 0x04 };
  Type type = Type::kDomain;
  std::string address;  // 4 or 16 raw bytes, or the host name
  uint16_t port = 0;

  // "host:port" / "1.2.3.4:port" / "[::1]:port", for messages.
  std::string ToString() const;
};

// A destination for `host`:`port`. An IP literal (IPv4 dotted, or IPv6,
// without brackets) always becomes an address. A name is kept as a name when
// `proxy_resolves` (socks5h); otherwise it is resolved here with getaddrinfo
// (first IPv4 answer preferred, else the first IPv6 one), and failure is
// UNAVAILABLE CONNECT_FAILED naming the host. An empty host, a name longer than
// 255 bytes or a port outside 1..65535 is INVALID_ARGUMENT PROXY_INVALID.
absl::StatusOr<Destination> ResolveDestination(absl::string_view host, int port,
                                               bool proxy_resolves);

// CONNECT request for `destination`. PROXY_INVALID for an empty or oversize
// (> 255 bytes) name, or an address of the wrong length.
absl::StatusOr<std::string> EncodeConnectRequest(
    const Destination& destination);

// "succeeded", "general SOCKS server failure", ..., "connection refused", ...
// (RFC 1928 section 6) or "unassigned reply code 0xNN".
std::string ReplyCodeMeaning(uint8_t code);

// Parses the CONNECT reply. Success needs the whole reply (its length depends
// on the address type); a failure code is reported from the first two bytes
// as PROXY_FAILED "the SOCKS5 proxy could not connect to <destination>:
// <meaning> (reply N)", except reply 2 (not allowed by ruleset), a policy
// refusal: PROXY_REFUSED "the SOCKS5 proxy refused the connection to
// <destination>: ...; check the proxy's rules". A version other than 5 or an
// unknown address type is
// PROXY_FAILED; the reserved byte is not checked (lenient to sloppy proxies).
absl::StatusOr<size_t> ParseConnectReply(absl::string_view received,
                                         const Destination& destination);

}  // namespace cloudlink::socks5

#include "server/socks5/socks5_handshake.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/error.h"

namespace cloudlink::socks5 {
namespace {

constexpr uint8_t kUserPassVersion = 0x01;
constexpr uint8_t kCommandConnect = 0x01;

absl::Status ProxyFailed(absl::string_view sentence) {
  return Error(absl::StatusCode::kUnavailable, reason::kProxyFailed, sentence);
}

absl::Status ProxyAuth(absl::string_view sentence) {
  return Error(absl::StatusCode::kUnavailable, reason::kProxyAuth, sentence);
}

absl::Status ProxyInvalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kProxyInvalid,
               sentence);
}

absl::Status CheckVersion(uint8_t version) {
  if (version == kVersion) return absl::OkStatus();
  return ProxyFailed(absl::StrFormat(
      "proxy negotiation failed: the proxy did not answer as a SOCKS5 proxy "
      "(version byte 0x%02x)",
      version));
}

}  // namespace

std::string EncodeGreeting(bool offer_user_pass) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  if (offer_user_pass) {
    out.push_back(2);
    out.push_back(static_cast<char>(kMethodNoAuth));
    out.push_back(static_cast<char>(kMethodUserPass));
  } else {
    out.push_back(1);
    out.push_back(static_cast<char>(kMethodNoAuth));
  }
  return out;
}

absl::StatusOr<size_t> ParseMethodSelection(absl::string_view received,
                                            bool offered_user_pass,
                                            uint8_t* method) {
  if (received.empty()) return 0;
  auto status = CheckVersion(static_cast<uint8_t>(received[0]));
  if (!status.ok()) return status;
  if (received.size() < 2) return 0;
  const uint8_t chosen = static_cast<uint8_t>(received[1]);
  if (chosen == kMethodNoneAcceptable) {
    if (!offered_user_pass) {
      return ProxyAuth(
          "the SOCKS5 proxy requires authentication; give a user name and "
          "password in the proxy URL");
    }
    return ProxyFailed(
        "proxy negotiation failed: the SOCKS5 proxy accepted none of the "
        "offered methods (no authentication, user/password)");
  }
  if (chosen == kMethodNoAuth ||
      (chosen == kMethodUserPass && offered_user_pass)) {
    *method = chosen;
    return 2;
  }
  return ProxyFailed(absl::StrFormat(
      "proxy negotiation failed: the SOCKS5 proxy chose authentication method "
      "0x%02x, which we did not offer",
      chosen));
}

absl::StatusOr<std::string> EncodeUserPassRequest(absl::string_view user,
                                                  absl::string_view password) {
  if (user.empty() || user.size() > 255) {
    return ProxyInvalid("a SOCKS5 proxy user name must be 1 to 255 bytes");
  }
  if (password.size() > 255) {
    return ProxyInvalid("a SOCKS5 proxy password must be at most 255 bytes");
  }
  std::string out;
  out.reserve(3 + user.size() + password.size());
  out.push_back(static_cast<char>(kUserPassVersion));
  out.push_back(static_cast<char>(user.size()));
  out.append(user.data(), user.size());
  out.push_back(static_cast<char>(password.size()));
  out.append(password.data(), password.size());
  return out;
}

absl::StatusOr<size_t> ParseUserPassReply(absl::string_view received) {
  if (received.empty()) return 0;
  const uint8_t version = static_cast<uint8_t>(received[0]);
  if (version != kUserPassVersion && version != kVersion) {
    return ProxyFailed(absl::StrFormat(
        "proxy negotiation failed: bad SOCKS5 authentication reply (version "
        "byte 0x%02x)",
        version));
  }
  if (received.size() < 2) return 0;
  if (received[1] != 0) {
    return ProxyAuth(absl::StrFormat(
        "the SOCKS5 proxy rejected the user name and password (status %d)",
        static_cast<uint8_t>(received[1])));
  }
  return 2;
}

std::string Destination::ToString() const {
  char text[INET6_ADDRSTRLEN] = {0};
  switch (type) {
    case Type::kIpv4:
      if (address.size() == 4 &&
          inet_ntop(AF_INET, address.data(), text, sizeof(text)) != nullptr) {
        return absl::StrCat(text, ":", port);
      }
      break;
    case Type::kIpv6:
      if (address.size() == 16 &&
          inet_ntop(AF_INET6, address.data(), text, sizeof(text)) != nullptr) {
        return absl::StrCat("[", text, "]:", port);
      }
      break;
    case Type::kDomain:
      return absl::StrCat(address, ":", port);
  }
  return absl::StrCat("(bad address):", port);
}

absl::StatusOr<Destination> ResolveDestination(absl::string_view host, int port,
                                               bool proxy_resolves) {
  if (port < 1 || port > 65535) {
    return ProxyInvalid(absl::StrCat("port ", port, " is outside 1..65535"));
  }
  if (host.empty()) return ProxyInvalid("the destination host is empty");
  if (host.size() > 255) {
    return ProxyInvalid("the destination host name is longer than 255 bytes");
  }
  Destination destination;
  destination.port = static_cast<uint16_t>(port);
  const std::string host_string(host);
  unsigned char raw[16];
  if (inet_pton(AF_INET, host_string.c_str(), raw) == 1) {
    destination.type = Destination::Type::kIpv4;
    destination.address.assign(reinterpret_cast<char*>(raw), 4);
    return destination;
  }
  if (inet_pton(AF_INET6, host_string.c_str(), raw) == 1) {
    destination.type = Destination::Type::kIpv6;
    destination.address.assign(reinterpret_cast<char*>(raw), 16);
    return destination;
  }
  if (proxy_resolves) {
    destination.type = Destination::Type::kDomain;
    destination.address = host_string;
    return destination;
  }
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  const int rc = getaddrinfo(host_string.c_str(), nullptr, &hints, &results);
  if (rc != 0 || results == nullptr) {
    return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                 absl::StrCat("cannot resolve ", host_string, ": ",
                              rc != 0 ? gai_strerror(rc) : "no addresses"));
  }
  const addrinfo* chosen = nullptr;
  for (const addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
    if (ai->ai_family == AF_INET6 && chosen == nullptr) chosen = ai;
  }
  if (chosen == nullptr) {
    freeaddrinfo(results);
    return Error(absl::StatusCode::kUnavailable, reason::kConnectFailed,
                 absl::StrCat("cannot resolve ", host_string,
                              ": no IPv4 or IPv6 address"));
  }
  if (chosen->ai_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(chosen->ai_addr);
    destination.type = Destination::Type::kIpv4;
    destination.address.assign(reinterpret_cast<const char*>(&sin->sin_addr),
                               4);
  } else {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(chosen->ai_addr);
    destination.type = Destination::Type::kIpv6;
    destination.address.assign(reinterpret_cast<const char*>(&sin6->sin6_addr),
                               16);
  }
  freeaddrinfo(results);
  return destination;
}

absl::StatusOr<std::string> EncodeConnectRequest(
    const Destination& destination) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(kCommandConnect));
  out.push_back(0);  // reserved
  out.push_back(static_cast<char>(destination.type));
  switch (destination.type) {
    case Destination::Type::kIpv4:
      if (destination.address.size() != 4) {
        return ProxyInvalid("an IPv4 destination must be 4 bytes");
      }
      out += destination.address;
      break;
    case Destination::Type::kIpv6:
      if (destination.address.size() != 16) {
        return ProxyInvalid("an IPv6 destination must be 16 bytes");
      }
      out += destination.address;
      break;
    case Destination::Type::kDomain:
      if (destination.address.empty() || destination.address.size() > 255) {
        return ProxyInvalid(
            "a SOCKS5 destination host name must be 1 to 255 bytes");
      }
      out.push_back(static_cast<char>(destination.address.size()));
      out += destination.address;
      break;
    default:
      return ProxyInvalid("unknown destination address type");
  }
  out.push_back(static_cast<char>(destination.port >> 8));
  out.push_back(static_cast<char>(destination.port & 0xFF));
  return out;
}

std::string ReplyCodeMeaning(uint8_t code) {
  switch (code) {
    case 0x00:
      return "succeeded";
    case 0x01:
      return "general SOCKS server failure";
    case 0x02:
      return "connection not allowed by ruleset";
    case 0x03:
      return "network unreachable";
    case 0x04:
      return "host unreachable";
    case 0x05:
      return "connection refused";
    case 0x06:
      return "TTL expired";
    case 0x07:
      return "command not supported";
    case 0x08:
      return "address type not supported";
    default:
      return absl::StrFormat("unassigned reply code 0x%02x", code);
  }
}

absl::StatusOr<size_t> ParseConnectReply(absl::string_view received,
                                         const Destination& destination) {
  if (received.empty()) return 0;
  auto status = CheckVersion(static_cast<uint8_t>(received[0]));
  if (!status.ok()) return status;
  if (received.size() < 2) return 0;
  const uint8_t code = static_cast<uint8_t>(received[1]);
  if (code == 0x02) {
    // A policy refusal: wrong credentials or an unreachable proxy would read
    // otherwise, so it gets its own reason (as HTTP proxies' 403 does).
    return Error(
        absl::StatusCode::kUnavailable, reason::kProxyRefused,
        absl::StrCat("the SOCKS5 proxy refused the connection to ",
                     destination.ToString(), ": ", ReplyCodeMeaning(code),
                     " (reply 2); check the proxy's rules"));
  }
  if (code != 0) {
    return ProxyFailed(absl::StrCat(
        "the SOCKS5 proxy could not connect to ", destination.ToString(), ": ",
        ReplyCodeMeaning(code), " (reply ", code, ")"));
  }
  if (received.size() < 4) return 0;
  size_t address_size = 0;
  size_t prefix = 4;
  switch (static_cast<uint8_t>(received[3])) {
    case 0x01:
      address_size = 4;
      break;
    case 0x04:
      address_size = 16;
      break;
    case 0x03:
      if (received.size() < 5) return 0;
      address_size = static_cast<uint8_t>(received[4]);
      prefix = 5;
      break;
    default:
      return ProxyFailed(absl::StrFormat(
          "proxy negotiation failed: the SOCKS5 proxy's reply has unknown "
          "address type 0x%02x",
          static_cast<uint8_t>(received[3])));
  }
  const size_t total = prefix + address_size + 2;
  if (received.size() < total) return 0;
  return total;
}

}  // namespace cloudlink::socks5

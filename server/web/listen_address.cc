#include "server/web/listen_address.h"

#include <arpa/inet.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cloudlink::web {

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text,
                                                 bool allow_remote) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not ADDRESS:PORT"));
  }
  int port = -1;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" has no port number 0-65535"));
  }
  absl::string_view host = text.substr(0, colon);
  ListenAddress address;
  address.port = port;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    address.host = std::string(host.substr(1, host.size() - 2));
    in6_addr v6;
    if (inet_pton(AF_INET6, address.host.c_str(), &v6) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", host, "\" is not an IPv6 address"));
    }
    address.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
  } else if (host == "localhost") {
    address.host = "127.0.0.1";
    address.loopback = true;
  } else {
    address.host = std::string(host);
    in_addr v4;
    if (inet_pton(AF_INET, address.host.c_str(), &v4) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", host,
          "\" is not an IPv4 address, a bracketed IPv6 address or localhost"));
    }
    address.loopback = (ntohl(v4.s_addr) >> 24) == 127;
  }
  if (!address.loopback && !allow_remote) {
    return absl::InvalidArgumentError(absl::StrCat(
        host,
        " is not a loopback address; the page can claim this node, so "
        "serving it to the network needs --http-allow-remote as well"));
  }
  return address;
}

}  // namespace cloudlink::web

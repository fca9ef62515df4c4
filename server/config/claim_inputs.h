#pragma once

// What a claim needs, from whichever source supplied it:
// claim.conf (claim_conf.h), the NETDATA_CLAIM_* environment (env_claim.h) or
// the Claim RPC. claim_sources.h picks between the first two.
//
// The validators below return INVALID_ARGUMENT with a reason naming the field
// (TOKEN_INVALID_FORMAT, URL_INVALID, ROOMS_INVALID, PROXY_INVALID,
// PROXY_UNSUPPORTED) and a sentence saying how to fix it. No message ever
// contains the token or a proxy password.
//
// All functions are pure and thread-safe.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloudlink::config {

inline constexpr char kDefaultCloudUrl[] = "https://app.netdata.cloud";
inline constexpr char kDefaultProxy[] = "env";
inline constexpr size_t kMaxTokenBytes = 1024;
inline constexpr size_t kMaxRoomBytes = 128;
inline constexpr size_t kMaxRooms = 1000;

struct ClaimInputs {
  std::string url = kDefaultCloudUrl;  // without a trailing '/'
  std::string token;                   // a secret
  std::vector<std::string> rooms;
  std::string proxy = kDefaultProxy;  // the raw setting, e.g. "env"; proxy.h
  bool insecure = false;
  std::string source;  // "claim.conf", "env" or "rpc"

  friend bool operator==(const ClaimInputs& a, const ClaimInputs& b) {
    return a.url == b.url && a.token == b.token && a.rooms == b.rooms &&
           a.proxy == b.proxy && a.insecure == b.insecure &&
           a.source == b.source;
  }
};

// The cloud URL as the claimer joins paths to it: surrounding whitespace and
// trailing '/' removed ("https://cloud.example/" → "https://cloud.example").
std::string CanonicalCloudUrl(absl::string_view url);

// Non-empty, at most kMaxTokenBytes, printable ASCII without spaces.
absl::Status ValidateClaimToken(absl::string_view token);

// https://host[:port][/path], host a name, IPv4 or bracketed IPv6 address,
// no user info, query or fragment. http:// is refused: the claim sends the
// token and the node's public key, which must not travel in clear text.
absl::Status ValidateClaimUrl(absl::string_view url);

// At most kMaxRooms ids, each 1..kMaxRoomBytes of [A-Za-z0-9_-].
absl::Status ValidateClaimRooms(const std::vector<std::string>& rooms);

// ParseProxy(proxy) succeeds (proxy.h).
absl::Status ValidateClaimProxy(absl::string_view proxy);

// All of the above, in the order token, url, rooms, proxy; the first failure.
absl::Status ValidateClaimInputs(const ClaimInputs& inputs);

}  // namespace cloudlink::config

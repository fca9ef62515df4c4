#include "server/config/claim_inputs.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/status_macros.h"
#include "server/config/authority.h"
#include "server/config/proxy.h"

namespace cloudlink::config {
namespace {

absl::Status Invalid(const Reason& reason, absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason, sentence);
}

absl::Status UrlInvalid(absl::string_view sentence) {
  return Invalid(reason::kUrlInvalid, sentence);
}

bool IsRoomChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_';
}

}  // namespace

std::string CanonicalCloudUrl(absl::string_view url) {
  url = absl::StripAsciiWhitespace(url);
  size_t scheme_end = url.find("://");
  size_t min_size = scheme_end == absl::string_view::npos ? 0 : scheme_end + 3;
  while (url.size() > min_size && absl::EndsWith(url, "/")) {
    url.remove_suffix(1);
  }
  return std::string(url);
}

absl::Status ValidateClaimToken(absl::string_view token) {
  if (token.empty()) {
    return Invalid(reason::kTokenInvalidFormat,
                   "the claim token is empty; copy it from the Space's "
                   "'Connect Nodes' instructions");
  }
  if (token.size() > kMaxTokenBytes) {
    return Invalid(
        reason::kTokenInvalidFormat,
        absl::StrCat("the claim token is longer than ", kMaxTokenBytes,
                     " bytes; copy it again from the Space"));
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return Invalid(reason::kTokenInvalidFormat,
                     "the claim token contains a space, control or non-ASCII "
                     "character; copy it again without extra characters");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateClaimUrl(absl::string_view url) {
  for (char c : url) {
    if (c < 0x21 || c > 0x7e) {
      return UrlInvalid(
          "the cloud URL contains a space, control or non-ASCII character");
    }
  }
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return UrlInvalid("the cloud URL must look like https://app.netdata.cloud");
  }
  absl::string_view scheme = url.substr(0, scheme_end);
  if (absl::EqualsIgnoreCase(scheme, "http")) {
    return UrlInvalid(
        "the cloud URL must use https://, not http://: the claim sends the "
        "token and the node's key");
  }
  if (!absl::EqualsIgnoreCase(scheme, "https")) {
    return UrlInvalid(
        "the cloud URL must start with https://, like "
        "https://app.netdata.cloud");
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return UrlInvalid(
        "the cloud URL must not have a query ('?') or fragment ('#')");
  }
  absl::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != absl::string_view::npos) {
    return UrlInvalid(
        "the cloud URL must not contain a user name or password; remove "
        "the part before '@'");
  }
  Authority parsed;
  switch (ParseAuthority(authority, &parsed)) {
    case AuthorityProblem::kNone:
      break;
    case AuthorityProblem::kEmptyHost:
      return UrlInvalid(
          "the cloud URL has no host; write it like "
          "https://app.netdata.cloud");
    case AuthorityProblem::kUnclosedBracket:
      return UrlInvalid("the IPv6 address in the cloud URL has no ']'");
    case AuthorityProblem::kTextAfterBracket:
      return UrlInvalid("unexpected text after the cloud URL's IPv6 address");
    case AuthorityProblem::kBadIpv6:
      return UrlInvalid("the cloud URL's IPv6 address is malformed");
    case AuthorityProblem::kUnbracketedIpv6:
      return UrlInvalid(
          "an IPv6 address in the cloud URL must be in brackets, like "
          "https://[2001:db8::1]");
    case AuthorityProblem::kBadHostCharacter:
      return UrlInvalid(
          "the cloud URL's host has characters other than letters, "
          "digits, '-', '.' and '_' (IPv6 addresses go in brackets)");
    case AuthorityProblem::kBadPort:
      return UrlInvalid("the cloud URL's port is not a number from 1 to 65535");
  }
  return absl::OkStatus();
}

absl::Status ValidateClaimRooms(const std::vector<std::string>& rooms) {
  if (rooms.size() > kMaxRooms) {
    return Invalid(reason::kRoomsInvalid,
                   absl::StrCat("there are ", rooms.size(), " rooms; at most ",
                                kMaxRooms, " are allowed"));
  }
  for (size_t i = 0; i < rooms.size(); ++i) {
    const std::string& room = rooms[i];
    if (room.empty()) {
      return Invalid(reason::kRoomsInvalid,
                     absl::StrCat("room ", i + 1,
                                  " is empty; list room ids separated by "
                                  "commas"));
    }
    if (room.size() > kMaxRoomBytes) {
      return Invalid(reason::kRoomsInvalid,
                     absl::StrCat("room ", i + 1, " is longer than ",
                                  kMaxRoomBytes, " bytes"));
    }
    for (char c : room) {
      if (!IsRoomChar(c)) {
        return Invalid(
            reason::kRoomsInvalid,
            absl::StrCat(
                "room ", i + 1, " ('",
                absl::CHexEscape(absl::string_view(room).substr(0, 40)),
                "') has characters other than letters, digits, '-' "
                "and '_'; use the room ids from the Space, separated "
                "by commas"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateClaimProxy(absl::string_view proxy) {
  return ParseProxy(proxy).status();
}

absl::Status ValidateClaimInputs(const ClaimInputs& inputs) {
  RETURN_IF_ERROR(ValidateClaimToken(inputs.token));
  RETURN_IF_ERROR(ValidateClaimUrl(inputs.url));
  RETURN_IF_ERROR(ValidateClaimRooms(inputs.rooms));
  RETURN_IF_ERROR(ValidateClaimProxy(inputs.proxy));
  return absl::OkStatus();
}

}  // namespace cloudlink::config

#include "server/transport/wss_url.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/config/authority.h"

namespace cloudlink::transport {
namespace {

absl::Status UrlInvalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kUrlInvalid,
               sentence);
}

}  // namespace

absl::StatusOr<WssUrl> ParseWssUrl(absl::string_view url) {
  absl::string_view rest = url;
  constexpr absl::string_view kScheme = "wss://";
  if (rest.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(rest.substr(0, kScheme.size()), kScheme)) {
    return UrlInvalid("the MQTT endpoint must be a wss:// URL");
  }
  rest.remove_prefix(kScheme.size());
  WssUrl parsed;
  const size_t path_start = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, path_start);
  parsed.path = path_start == absl::string_view::npos
                    ? "/"
                    : std::string(rest.substr(path_start));
  const size_t fragment = parsed.path.find('#');
  if (fragment != std::string::npos) parsed.path.erase(fragment);
  if (!parsed.path.empty() && parsed.path[0] == '?') {
    parsed.path.insert(0, "/");
  }
  if (parsed.path.empty()) parsed.path = "/";
  if (authority.find('@') != absl::string_view::npos) {
    return UrlInvalid("the MQTT endpoint URL must not contain user info");
  }
  // The host goes to lws (DNS, SNI, certificate check) as a C string; the
  // authority rules keep out every byte (NUL, space, '[') that would make it
  // connect somewhere other than what we log.
  config::Authority host_port;
  const config::AuthorityProblem problem =
      config::ParseAuthority(authority, &host_port);
  if (problem != config::AuthorityProblem::kNone) {
    return UrlInvalid(absl::StrCat("the MQTT endpoint URL is malformed: ",
                                   config::ProblemHint(problem)));
  }
  parsed.host = std::move(host_port.host);
  parsed.port = host_port.port.value_or(parsed.port);
  return parsed;
}

}  // namespace cloudlink::transport

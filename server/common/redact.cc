#include "server/common/redact.h"

#include "absl/strings/str_cat.h"

namespace cloudlink {

std::string RedactSecret(absl::string_view secret) { return "****"; }

std::string RedactUrlCredentials(absl::string_view url) {
  size_t scheme_end = url.find("://");
  size_t authority_start =
      scheme_end == absl::string_view::npos ? 0 : scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == absl::string_view::npos) authority_end = url.size();
  absl::string_view authority =
      url.substr(authority_start, authority_end - authority_start);
  size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  absl::string_view userinfo = authority.substr(0, at);
  size_t colon = userinfo.find(':');
  absl::string_view user = userinfo.substr(0, colon);
  absl::string_view password = colon == absl::string_view::npos
                                   ? absl::string_view()
                                   : userinfo.substr(colon + 1);
  return absl::StrCat(url.substr(0, authority_start), user, ":",
                      RedactSecret(password), url.substr(authority_start + at));
}

}  // namespace cloudlink

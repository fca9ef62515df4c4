#include "server/config/claim_conf.h"

#include <sys/stat.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/common/mutex.h"
#include "server/common/status_macros.h"
#include "server/config/config_file.h"
#include "server/config/error_context.h"
#include "server/config/ini_file.h"
#include "server/config/values.h"

namespace cloudlink::config {
namespace {

constexpr absl::string_view kValidKeys = "url, token, rooms, proxy, insecure";

// A key is quoted in messages only when it cannot be a pasted secret.
std::string QuotedKey(absl::string_view key) {
  bool plain = key.size() <= 32;
  for (char c : key) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                      c == ' ' || c == '.');
  }
  return plain ? absl::StrCat("'", key, "'") : std::string("at this line");
}

}  // namespace

absl::StatusOr<ClaimInputs> ParseClaimConf(absl::string_view text,
                                           absl::string_view path) {
  ASSIGN_OR_RETURN(IniFile file, ParseIni(text, path));
  std::map<std::string, const IniEntry*> seen;
  for (const IniSection& section : file.sections) {
    if (section.name.empty()) {
      return ConfigInvalid(path, section.entries.front().line,
                           "settings must follow a '[global]' line; add "
                           "'[global]' above them");
    }
    if (section.name != "global") {
      return ConfigInvalid(
          path, section.line,
          absl::StrCat("unknown section ", QuotedKey(section.name),
                       "; claim.conf has only '[global]'"));
    }
    for (const IniEntry& entry : section.entries) {
      if (entry.key != "url" && entry.key != "token" && entry.key != "rooms" &&
          entry.key != "proxy" && entry.key != "insecure") {
        return ConfigInvalid(path, entry.line,
                             absl::StrCat("unknown key ", QuotedKey(entry.key),
                                          "; the valid keys are ", kValidKeys));
      }
      auto [it, inserted] = seen.emplace(entry.key, &entry);
      if (!inserted) {
        return ConfigInvalid(
            path, entry.line,
            absl::StrCat("'", entry.key, "' is set twice (first at line ",
                         it->second->line, "); keep one of them"));
      }
    }
  }

  ClaimInputs inputs;
  inputs.source = "claim.conf";
  auto find = [&seen](const char* key) -> const IniEntry* {
    auto it = seen.find(key);
    return it == seen.end() ? nullptr : it->second;
  };

  const IniEntry* token = find("token");
  if (token == nullptr || token->value.empty()) {
    return ConfigInvalid(path, token == nullptr ? 0 : token->line,
                         "token is required; add 'token = <claim token>' "
                         "under [global], with the token from your Space");
  }
  RETURN_IF_ERROR(AddErrorContext(ValidateClaimToken(token->value),
                                  Location(path, token->line)));
  inputs.token = token->value;

  if (const IniEntry* url = find("url");
      url != nullptr && !url->value.empty()) {
    inputs.url = CanonicalCloudUrl(url->value);
    RETURN_IF_ERROR(AddErrorContext(ValidateClaimUrl(inputs.url),
                                    Location(path, url->line)));
  }
  if (const IniEntry* rooms = find("rooms"); rooms != nullptr) {
    inputs.rooms = ParseRooms(rooms->value);
    RETURN_IF_ERROR(AddErrorContext(ValidateClaimRooms(inputs.rooms),
                                    Location(path, rooms->line)));
  }
  if (const IniEntry* proxy = find("proxy"); proxy != nullptr) {
    inputs.proxy = proxy->value;
    RETURN_IF_ERROR(AddErrorContext(ValidateClaimProxy(inputs.proxy),
                                    Location(path, proxy->line)));
  }
  if (const IniEntry* insecure = find("insecure");
      insecure != nullptr && !insecure->value.empty()) {
    absl::optional<bool> value = ParseBool(insecure->value);
    if (!value.has_value()) {
      return ConfigInvalid(path, insecure->line,
                           "insecure must be yes or no (true/false, on/off "
                           "and 1/0 work too)");
    }
    inputs.insecure = *value;
  }
  return inputs;
}

namespace {

// True the first time it is asked about `path` in this process: the file is
// read on every reload, the warning is worth one line.
bool FirstWarningFor(const std::string& path) {
  static Mutex mu;
  static auto* warned = new std::set<std::string>();
  MutexLock lock(&mu);
  return warned->insert(path).second;
}

}  // namespace

absl::StatusOr<absl::optional<ClaimInputs>> LoadClaimConf(
    const std::string& path) {
  ASSIGN_OR_RETURN(absl::optional<std::string> text, ReadConfigFile(path));
  if (!text.has_value()) return absl::optional<ClaimInputs>();
  ASSIGN_OR_RETURN(ClaimInputs inputs, ParseClaimConf(*text, path));
  struct stat st;
  if (!inputs.token.empty() && stat(path.c_str(), &st) == 0 &&
      (st.st_mode & S_IROTH) != 0 && FirstWarningFor(path)) {
    LogWarning(absl::StrCat("CLAIM: ", path,
                            " holds the claim token and every user may read "
                            "it; fix: chmod o-r ",
                            path));
  }
  return absl::optional<ClaimInputs>(std::move(inputs));
}

}  // namespace cloudlink::config

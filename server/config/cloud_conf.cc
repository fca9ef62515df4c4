#include "server/config/cloud_conf.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/common/uuid.h"
#include "server/config/error_context.h"
#include "server/config/ini_file.h"
#include "server/config/values.h"

namespace cloudlink::config {
namespace {

constexpr char kHeader[] =
    "Written by cloudlinkd after a successful claim; do not edit.\n"
    "Delete the cloud.d directory to unclaim this node.";

}  // namespace

absl::StatusOr<CloudConf> ParseCloudConf(absl::string_view text,
                                         absl::string_view path) {
  ASSIGN_OR_RETURN(IniFile file, ParseIni(text, path));
  CloudConf conf;
  std::map<std::string, int> seen;  // key → line
  for (const IniSection& section : file.sections) {
    if (section.name != "global") continue;
    for (const IniEntry& entry : section.entries) {
      std::string* text_field = nullptr;
      if (entry.key == "url") {
        text_field = &conf.url;
      } else if (entry.key == "proxy") {
        text_field = &conf.proxy;
      } else if (entry.key == "token") {
        text_field = &conf.token;
      } else if (entry.key == "machine_guid") {
        text_field = &conf.machine_guid;
      } else if (entry.key == "claimed_id") {
        text_field = &conf.claimed_id;
      } else if (entry.key == "hostname") {
        text_field = &conf.hostname;
      } else if (entry.key == "source") {
        text_field = &conf.source;
      } else if (entry.key != "rooms" && entry.key != "insecure") {
        continue;  // a newer version's key
      }
      auto [it, inserted] = seen.emplace(entry.key, entry.line);
      if (!inserted) {
        return ConfigInvalid(
            path, entry.line,
            absl::StrCat("'", entry.key, "' is set twice (first at line ",
                         it->second, ")"));
      }
      if (text_field != nullptr) {
        *text_field = entry.value;
      } else if (entry.key == "rooms") {
        conf.rooms = ParseRooms(entry.value);
      } else {
        absl::optional<bool> insecure = ParseBool(entry.value);
        if (!insecure.has_value()) {
          return ConfigInvalid(path, entry.line, "insecure must be yes or no");
        }
        conf.insecure = *insecure;
      }
      if ((entry.key == "machine_guid" || entry.key == "claimed_id") &&
          !entry.value.empty() && !IsUuid(entry.value)) {
        return ConfigInvalid(path, entry.line,
                             absl::StrCat(entry.key, " must be a UUID"));
      }
    }
  }
  return conf;
}

absl::StatusOr<std::string> SerializeCloudConf(const CloudConf& conf,
                                               absl::string_view path) {
  for (size_t i = 0; i < conf.rooms.size(); ++i) {
    const std::string& room = conf.rooms[i];
    if (room.empty() || room.find(',') != std::string::npos ||
        std::any_of(room.begin(), room.end(), [](char c) {
          return absl::ascii_isspace(static_cast<unsigned char>(c));
        })) {
      return ConfigInvalid(path, 0,
                           absl::StrCat("cannot write room ", i + 1,
                                        ": it is empty or has a comma or "
                                        "whitespace"));
    }
  }
  IniSection global{"global", 0, {}};
  global.entries = {
      {"url", conf.url, 0},
      {"proxy", conf.proxy, 0},
      {"token", conf.token, 0},
      {"rooms", FormatRooms(conf.rooms), 0},
      {"insecure", FormatBool(conf.insecure), 0},
      {"machine_guid", conf.machine_guid, 0},
      {"claimed_id", conf.claimed_id, 0},
      {"hostname", conf.hostname, 0},
  };
  if (!conf.source.empty())
    global.entries.push_back({"source", conf.source, 0});
  IniFile file;
  file.sections.push_back(std::move(global));
  return SerializeIni(file, kHeader, path);
}

}  // namespace cloudlink::config

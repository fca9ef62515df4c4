// ParseIni, SerializeIni and SetIniValue (server/config/ini_file.h) over
// claim.conf / cloud.conf text.
//
// Input: the whole file text. Checks: an error is CONFIG_INVALID and never
// quotes a token or proxy password (secrets.h); what parses and serializes
// parses back to the same sections, keys and values; SetIniValue on parsed text
// yields text that parses and holds the new value.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/secrets.h"
#include "server/common/error.h"
#include "server/config/ini_file.h"

namespace cloudlink::fuzz {
namespace {

using config::IniFile;

bool SameContent(const IniFile& a, const IniFile& b) {
  if (a.sections.size() != b.sections.size()) return false;
  for (size_t i = 0; i < a.sections.size(); ++i) {
    const auto& x = a.sections[i];
    const auto& y = b.sections[i];
    if (x.name != y.name || x.entries.size() != y.entries.size()) return false;
    for (size_t j = 0; j < x.entries.size(); ++j) {
      if (x.entries[j].key != y.entries[j].key ||
          x.entries[j].value != y.entries[j].value) {
        return false;
      }
    }
  }
  return true;
}

void Run(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<IniFile> parsed = config::ParseIni(text, "/f.conf");
  if (!parsed.ok()) {
    FUZZ_CHECK(ReasonOf(parsed.status()) == "CONFIG_INVALID",
               parsed.status().ToString());
    CheckNoSecretQuoted(text, [&](absl::string_view t) {
      return std::string(config::ParseIni(t, "/f.conf").status().message());
    });
    return;
  }
  absl::StatusOr<std::string> written =
      config::SerializeIni(*parsed, "header\ncomment", "/f.conf");
  if (written.ok()) {
    absl::StatusOr<IniFile> back = config::ParseIni(*written, "/f.conf");
    FUZZ_CHECK(back.ok(),
               "serialized text does not parse: " + back.status().ToString());
    FUZZ_CHECK(SameContent(*parsed, *back), "serialize/parse round trip");
  }
  absl::StatusOr<std::string> updated =
      config::SetIniValue(text, "/f.conf", "global", "token", "new#;token");
  FUZZ_CHECK(updated.ok(), "SetIniValue failed on parsed text: " +
                               updated.status().ToString());
  absl::StatusOr<IniFile> reparsed = config::ParseIni(*updated, "/f.conf");
  FUZZ_CHECK(reparsed.ok(), "SetIniValue wrote text that does not parse: " +
                                reparsed.status().ToString());
  bool found = false;
  for (const auto& section : reparsed->sections) {
    if (section.name != "global") continue;
    for (const auto& entry : section.entries) {
      if (entry.key != "token") continue;
      found = true;
      FUZZ_CHECK(entry.value == "new#;token", "SetIniValue missed a token");
    }
  }
  FUZZ_CHECK(found, "SetIniValue did not add the key");
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

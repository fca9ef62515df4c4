#include "server/transport/lws_log.h"

#include <libwebsockets.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "server/common/log.h"

namespace cloudlink::transport {
namespace {

void EmitLwsLog(int level, const char* line) {
  absl::string_view text = absl::StripTrailingAsciiWhitespace(line);
  if (level & LLL_ERR) {
    LogWarning(absl::StrCat("LWS: ", text));
  } else {
    LogDebug(absl::StrCat("LWS: ", text));
  }
}

}  // namespace

void RouteLwsLogging() {
  static std::once_flag once;
  std::call_once(once, [] { lws_set_log_level(LLL_ERR, EmitLwsLog); });
}

}  // namespace cloudlink::transport

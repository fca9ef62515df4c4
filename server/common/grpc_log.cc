#include "server/common/grpc_log.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpc/support/log.h"
#include "server/common/log.h"

namespace cloudlink {
namespace {

void ToOurLog(gpr_log_func_args* args) {
  const LogLevel level = args->severity == GPR_LOG_SEVERITY_ERROR
                             ? LogLevel::kWarning
                             : LogLevel::kDebug;
  absl::string_view file = args->file != nullptr ? args->file : "";
  const size_t slash = file.find_last_of('/');
  if (slash != absl::string_view::npos) file.remove_prefix(slash + 1);
  Log(level,
      absl::StrCat("GRPC: ", args->message != nullptr ? args->message : "",
                   " (", file, ":", args->line, ")"));
}

}  // namespace

void RouteGrpcLogsToOurLog() {
  gpr_set_log_function(ToOurLog);
  const char* verbosity = std::getenv("GRPC_VERBOSITY");
  if (verbosity != nullptr && verbosity[0] != '\0') return;
  gpr_set_log_verbosity(GetLogLevel() == LogLevel::kDebug
                            ? GPR_LOG_SEVERITY_INFO
                            : GPR_LOG_SEVERITY_ERROR);
}

}  // namespace cloudlink

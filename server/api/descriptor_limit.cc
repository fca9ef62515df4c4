#include "server/api/descriptor_limit.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace cloudlink::api {

rlim_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur == limit.rlim_max) return limit.rlim_cur;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    LogWarning(absl::StrCat("cannot raise the descriptor limit from ", before,
                            " to ", limit.rlim_max, ": ", strerror(errno)));
    return before;
  }
  LogInfo(absl::StrCat("descriptor limit raised from ", before, " to ",
                       limit.rlim_max));
  return limit.rlim_cur;
}

}  // namespace cloudlink::api

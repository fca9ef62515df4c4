#include "server/api/log_throttle.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace cloudlink::api {

void LogThrottle::Log(LogLevel level, absl::string_view message) {
  std::string line;
  {
    MutexLock lock(&mu_);
    const MonotonicTime now = clock_->MonotonicNow();
    if (now - last_ < interval_) {
      ++held_back_;
      return;
    }
    line = held_back_ == 0
               ? std::string(message)
               : absl::StrCat(message, " (and ", held_back_,
                              " more like it in the last ",
                              absl::FormatDuration(now - last_), ")");
    last_ = now;
    held_back_ = 0;
  }
  cloudlink::Log(level, line);
}

}  // namespace cloudlink::api

#include "server/link/window_refill.h"

#include <algorithm>

namespace cloudlink::link {

bool WindowRefill::Due(size_t window, size_t busy, bool work_waiting,
                       absl::Time now) {
  window = std::max<size_t>(1, window);
  deadline_ = absl::InfiniteFuture();
  if (busy == 0) return true;
  if (busy >= window) return false;  // PUBACKs will come and call again
  const size_t free = window - busy;
  if (free >= (window + 1) / 2 || !work_waiting) return true;
  if (now >= last_refill_ + max_delay_) return true;
  deadline_ = last_refill_ + max_delay_;
  return false;
}

}  // namespace cloudlink::link

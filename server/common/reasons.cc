#include "server/common/reasons.h"

namespace cloudlink::reason {

absl::Span<const Reason* const> All() {
#define CLOUDLINK_REASON_ADDRESS(constant, name, meaning) &constant,
  static constexpr const Reason* kAll[] = {
      CLOUDLINK_REASONS(CLOUDLINK_REASON_ADDRESS)};
#undef CLOUDLINK_REASON_ADDRESS
  return kAll;
}

const Reason* Find(absl::string_view name) {
  for (const Reason* reason : All()) {
    if (reason->name == name) return reason;
  }
  return nullptr;
}

}  // namespace cloudlink::reason

#include "server/publish/spool_segment_name.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace cloudlink::publish {
namespace {

constexpr absl::string_view kSegmentPrefix = "seg-";
constexpr absl::string_view kSegmentSuffix = ".log";

}  // namespace

std::string SpoolSegmentName(uint64_t first) {
  return absl::StrFormat("%s%020d%s", kSegmentPrefix, first, kSegmentSuffix);
}

bool LooksLikeSpoolSegmentName(absl::string_view name) {
  return absl::StartsWith(name, kSegmentPrefix) &&
         absl::EndsWith(name, kSegmentSuffix);
}

absl::optional<uint64_t> SpoolSegmentFirstSequence(absl::string_view name) {
  if (!LooksLikeSpoolSegmentName(name)) return absl::nullopt;
  absl::string_view digits = name;
  digits.remove_prefix(kSegmentPrefix.size());
  digits.remove_suffix(kSegmentSuffix.size());
  uint64_t first = 0;
  if (!absl::SimpleAtoi(digits, &first) || first == 0 ||
      first > kMaxSpoolSequence) {
    return absl::nullopt;
  }
  return first;
}

}  // namespace cloudlink::publish

#pragma once

// The names of the spool's segment files (spool.h):
// `seg-<first sequence, 20 digits>.log`, with sequences from 1 to
// kMaxSpoolSequence.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace cloudlink::publish {

// Sequence numbers count up from 1 and never come near this (2^62: a
// million messages a second for 146,000 years). A larger one on disk is
// corrupt or hand-made, and would wrap the counter.
inline constexpr uint64_t kMaxSpoolSequence = uint64_t{1} << 62;

// "seg-00000000000000000001.log" for `first` = 1.
std::string SpoolSegmentName(uint64_t first);

// Whether `name` has the form seg-*.log at all; other files in the spool's
// directory are not the spool's business.
bool LooksLikeSpoolSegmentName(absl::string_view name);

// The first sequence a seg-*.log name carries; nullopt when what stands
// between "seg-" and ".log" is not a number from 1 to kMaxSpoolSequence.
absl::optional<uint64_t> SpoolSegmentFirstSequence(absl::string_view name);

}  // namespace cloudlink::publish

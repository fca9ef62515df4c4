#include "server/publish/spool.h"

// Spool::Open's scan of the segments already on disk (spool.h: what is
// kept, truncated or ignored); the rest of the spool is in spool.cc.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/publish/spool_record.h"
#include "server/publish/spool_segment_name.h"

namespace cloudlink::publish {

absl::Status Spool::Load() {
  absl::Status made = files_->MakeDirs(options_.dir, 0700);
  // An existing directory is tightened too: the segments hold messages.
  if (made.ok()) made = files_->SetMode(options_.dir, 0700);
  if (!made.ok()) return made;
  absl::StatusOr<std::vector<std::string>> names =
      files_->ListFiles(options_.dir);
  if (!names.ok()) return names.status();
  MutexLock lock(&mu_);
  for (const std::string& name : *names) {
    if (!LooksLikeSpoolSegmentName(name)) continue;
    const absl::optional<uint64_t> first = SpoolSegmentFirstSequence(name);
    if (!first.has_value()) {
      LogWarning(absl::StrCat(
          "SPOOL: ", options_.dir, "/", name,
          ": not a segment name cloudlinkd writes (seg-<sequence from 1 to ",
          kMaxSpoolSequence,
          ", 20 digits>.log); ignoring it and leaving it in "
          "place"));
      continue;
    }
    mu_.Unlock();
    absl::Status segment = LoadSegment(*first, name);
    mu_.Lock();
    if (absl::IsFailedPrecondition(segment)) {
      // A link or a special file where a segment should be: never read,
      // truncated or written through.
      LogWarning(absl::StrCat("SPOOL: ", segment.message(),
                              "; ignoring it and leaving it in place"));
      continue;
    }
    if (!segment.ok()) return segment;
  }
  for (const auto& entry : unacked_) ready_.push_back(entry.first);
  stats_.replayed = unacked_.size();
  if (!segments_.empty()) {
    next_sequence_ = std::max(next_sequence_, segments_.rbegin()->first);
  }
  DeleteAckedSegmentsLocked();
  if (stats_.replayed > 0) {
    LogInfo(absl::StrCat("SPOOL: ", stats_.replayed,
                         " unacknowledged messages to replay from ",
                         options_.dir));
  }
  return absl::OkStatus();
}

absl::Status Spool::LoadSegment(uint64_t first, const std::string& name) {
  const std::string path = absl::StrCat(options_.dir, "/", name);
  absl::StatusOr<std::unique_ptr<state::AppendableFile>> file =
      files_->OpenAppendable(path, false);
  if (!file.ok()) return file.status();
  std::string data;
  absl::Status read = (*file)->ReadAt(0, (*file)->size(), &data);
  if (!read.ok()) return read;
  MutexLock lock(&mu_);
  Segment& segment = segments_[first];
  uint64_t offset = 0;
  uint64_t intact = 0;
  std::string problem;
  while (offset < data.size()) {
    absl::StatusOr<SpoolRecord> read =
        ReadSpoolRecord(absl::string_view(data).substr(offset));
    if (!read.ok()) {
      problem = std::string(read.status().message());
      break;
    }
    const SpoolRecord& record = *read;
    if (record.sequence > kMaxSpoolSequence) {
      problem = absl::StrCat("a record's sequence number ", record.sequence,
                             " is out of range (corrupt)");
      break;
    }
    if (record.type == SpoolRecordType::kData) {
      Location location;
      location.segment = first;
      location.offset = offset;
      location.length =
          static_cast<uint32_t>(record.size - kSpoolRecordHeaderBytes);
      if (unacked_.emplace(record.sequence, location).second) {
        ++segment.unacked;
      }
    } else {
      auto it = unacked_.find(record.sequence);
      if (it != unacked_.end()) {
        auto owner = segments_.find(it->second.segment);
        if (owner != segments_.end() && owner->second.unacked > 0) {
          --owner->second.unacked;
        }
        unacked_.erase(it);
      }
    }
    next_sequence_ = std::max(next_sequence_, record.sequence + 1);
    ++intact;
    offset += record.size;
  }
  if (!problem.empty()) {
    ++stats_.corrupt;
    LogWarning(absl::StrCat("SPOOL: ", path, ": at offset ", offset, ", ",
                            problem, "; truncating ", data.size() - offset,
                            " bytes, keeping the ", intact,
                            " intact records before it"));
    absl::Status cut = (*file)->Truncate(offset);
    if (!cut.ok()) return cut;
  }
  disk_bytes_ += (*file)->size();
  segment.file = *std::move(file);
  return absl::OkStatus();
}

}  // namespace cloudlink::publish

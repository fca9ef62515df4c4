#include "server/publish/spool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/publish/room_wait.h"
#include "server/publish/spool_record.h"
#include "server/publish/spool_segment_name.h"

namespace cloudlink::publish {
namespace {

absl::Status OpenFailed(const absl::Status& why) {
  return Error(absl::StatusCode::kUnavailable, reason::kSpoolOpenFailed,
               absl::StrCat("cannot open the publish spool: ", why.message()));
}

absl::Status ShuttingDown() {
  return Error(absl::StatusCode::kUnavailable, reason::kShuttingDown,
               "cloudlinkd is stopping; the message was not spooled");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options,
                                                   state::FileSystem* files,
                                                   Clock* clock) {
  std::unique_ptr<Spool> spool(new Spool(std::move(options), files, clock));
  absl::Status loaded = spool->Load();
  if (!loaded.ok()) return OpenFailed(loaded);
  spool->writer_ = std::thread([s = spool.get()] { s->WriterLoop(); });
  return spool;
}

std::string Spool::SegmentPath(uint64_t first) const {
  return absl::StrCat(options_.dir, "/", SpoolSegmentName(first));
}

Spool::~Spool() {
  {
    MutexLock lock(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
}

void Spool::SetWakeCallback(std::function<void()> wake) {
  MutexLock lock(&wake_mu_);
  wake_ = std::move(wake);
}

size_t Spool::UsedBytesLocked() const { return disk_bytes_ + pending_bytes_; }

absl::Status Spool::Append(std::string topic, std::string payload,
                           Completion done, bool wait,
                           MonotonicTime wait_deadline,
                           const std::function<bool()>& cancelled) {
  return AppendImpl(topic, payload, done, wait, /*count_full=*/true,
                    wait_deadline, cancelled);
}

absl::Status Spool::TryAppend(std::string& topic, std::string& payload,
                              Completion& done) {
  return AppendImpl(topic, payload, done, /*wait=*/false, /*count_full=*/false,
                    MonotonicTime::InfiniteFuture(), nullptr);
}

absl::Status Spool::AppendImpl(std::string& topic, std::string& payload,
                               Completion& done, bool wait, bool count_full,
                               MonotonicTime wait_deadline,
                               const std::function<bool()>& cancelled) {
  const size_t size = SpoolDataRecordBytes(topic.size(), payload.size());
  MutexLock lock(&mu_);
  if (closing_) return ShuttingDown();
  if (size > options_.max_bytes || size > kSpoolMaxBodyBytes ||
      topic.size() > 0xFFFF) {
    ++stats_.rejected;
    return Error(
        absl::StatusCode::kInvalidArgument, reason::kMessageTooLarge,
        absl::StrCat("the message needs ", size,
                     " bytes in the spool, which holds at most ",
                     std::min(options_.max_bytes, kSpoolMaxBodyBytes)));
  }
  auto has_room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_ || UsedBytesLocked() + size <= options_.max_bytes;
  };
  if (!has_room()) {
    if (!wait) {
      if (count_full) ++stats_.rejected;
      return Error(absl::StatusCode::kResourceExhausted, reason::kSpoolFull,
                   absl::StrCat("the durable spool is full (",
                                UsedBytesLocked(), " of ", options_.max_bytes,
                                " bytes); retry later or wait when full"));
    }
    if (!WaitForRoom(mu_, has_room, clock_, wait_deadline, cancelled)) {
      ++stats_.wait_timed_out;
      return Error(absl::StatusCode::kDeadlineExceeded,
                   reason::kSpoolWaitTimeout,
                   "the durable spool stayed full until the caller's "
                   "deadline or cancellation");
    }
    if (closing_) return ShuttingDown();
  }
  Pending pending;
  pending.sequence = next_sequence_++;
  pending.topic = std::move(topic);
  pending.payload = std::move(payload);
  pending.done = std::move(done);
  pending_bytes_ += size;
  pending_.push_back(std::move(pending));
  return absl::OkStatus();
}

void Spool::WriterLoop() {
  ThreadRoleScope writer(&writer_role_);
  while (true) {
    std::vector<Pending> batch;
    std::vector<uint64_t> acks;
    uint64_t flush_target = 0;
    uint64_t drop_target = 0;
    absl::Status drop_why;
    {
      MutexLock lock(&mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !pending_.empty() || !pending_acks_.empty() ||
               flush_requested_ > flush_done_ || drop_requested_ > drop_done_ ||
               closing_;
      };
      mu_.Await(work);
      if (drop_requested_ > drop_done_) {
        drop_target = drop_requested_;
        drop_why = drop_why_;
        batch.swap(pending_);
        pending_bytes_ = 0;
        pending_acks_.clear();
      }
      if (drop_target == 0 && closing_ && pending_.empty() &&
          pending_acks_.empty()) {
        flush_done_ = flush_requested_;
        drop_done_ = drop_requested_;
        return;
      }
      if (drop_target == 0) {
        batch.swap(pending_);
        acks.swap(pending_acks_);
        flush_target = flush_requested_;
      }
    }
    if (drop_target != 0) {
      const size_t count = DropAll(std::move(batch), drop_why);
      MutexLock lock(&mu_);
      drop_count_ = count;
      drop_done_ = drop_target;
      continue;
    }
    Commit(std::move(batch), std::move(acks));
    MutexLock lock(&mu_);
    flush_done_ = std::max(flush_done_, flush_target);
  }
}

void Spool::RecreateIfRemoved() {
  if (files_->Exists(options_.dir)) return;
  absl::Status made = files_->MakeDirs(options_.dir, 0700);
  MutexLock lock(&mu_);
  LogWarning(absl::StrCat(
      "SPOOL: ", options_.dir, " was removed (a reclaim?); ", unacked_.size(),
      " unacknowledged messages of the old claim are dropped",
      made.ok() ? "" : absl::StrCat("; ", made.message())));
  segments_.clear();
  unacked_.clear();
  ready_.clear();
  active_ = 0;
  disk_bytes_ = 0;
}

size_t Spool::DropAll(std::vector<Pending> unwritten, const absl::Status& why) {
  std::vector<std::string> paths;
  size_t committed = 0;
  {
    MutexLock lock(&mu_);
    committed = unacked_.size();
    for (const auto& entry : segments_) {
      paths.push_back(SegmentPath(entry.first));
    }
    segments_.clear();  // closes the segment files
    unacked_.clear();
    ready_.clear();
    active_ = 0;
    disk_bytes_ = 0;
  }
  for (const std::string& path : paths) {
    absl::Status removed = files_->RemoveFile(path);
    if (!removed.ok()) {
      LogWarning(
          absl::StrCat("SPOOL: cannot remove ", path, ": ", removed.message()));
    }
  }
  (void)files_->MakeDirs(options_.dir, 0700);
  LogWarning(absl::StrCat("SPOOL: dropped ", committed, " spooled and ",
                          unwritten.size(),
                          " unwritten messages: ", why.message()));
  for (Pending& p : unwritten) {
    if (p.done) p.done(why);
  }
  return committed + unwritten.size();
}

size_t Spool::FailAll(const absl::Status& why) {
  MutexLock lock(&mu_);
  const uint64_t target = ++drop_requested_;
  drop_why_ = why;
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return drop_done_ >= target;
  };
  mu_.Await(done);
  return drop_count_;
}

void Spool::Commit(std::vector<Pending> batch, std::vector<uint64_t> acks) {
  if (batch.empty() && acks.empty()) return;  // a Flush with nothing new
  if (!batch.empty()) RecreateIfRemoved();
  std::string buffer;
  size_t batch_bytes = 0;
  for (const Pending& p : batch) {
    batch_bytes += SpoolDataRecordBytes(p.topic.size(), p.payload.size());
  }
  state::AppendableFile* file = nullptr;
  uint64_t segment_key = 0;
  uint64_t base = 0;
  absl::Status status;
  {
    MutexLock lock(&mu_);
    // Ack records only matter while their message's segment exists.
    for (uint64_t sequence : acks) {
      AppendSpoolAckRecord(sequence, &buffer);
    }
    // Roll to a new segment when the active one would grow past its size,
    // or when there is none (at open, or after it was retired).
    auto active = segments_.find(active_);
    const bool roll =
        active == segments_.end() ||
        (active->second.file->size() > 0 &&
         active->second.file->size() + buffer.size() + batch_bytes >
             options_.segment_bytes);
    if (roll && (!batch.empty() || !buffer.empty())) {
      const uint64_t first =
          batch.empty() ? next_sequence_ : batch.front().sequence;
      if (segments_.count(first) == 0) {
        absl::StatusOr<std::unique_ptr<state::AppendableFile>> created =
            files_->OpenAppendable(SegmentPath(first), true);
        if (created.ok()) {
          disk_bytes_ += (*created)->size();
          segments_[first].file = *std::move(created);
          active_ = first;
        } else {
          status = created.status();
        }
      } else {
        active_ = first;
      }
      DeleteAckedSegmentsLocked();
    }
    active = segments_.find(active_);
    if (status.ok() && active == segments_.end()) {
      status = absl::InternalError("no active spool segment");
    }
    if (status.ok()) {
      file = active->second.file.get();
      segment_key = active_;
      base = file->size();
    }
  }
  std::vector<Location> locations;
  if (status.ok()) {
    locations.reserve(batch.size());
    for (const Pending& p : batch) {
      Location location;
      location.segment = segment_key;
      location.offset = base + buffer.size();
      const size_t before = buffer.size();
      AppendSpoolDataRecord(p.sequence, p.topic, p.payload, &buffer);
      location.length = static_cast<uint32_t>(buffer.size() - before -
                                              kSpoolRecordHeaderBytes);
      locations.push_back(location);
    }
    if (!buffer.empty()) status = file->Append(buffer);
    if (status.ok() && !batch.empty()) status = file->Sync();
    if (!status.ok()) {
      // Leave no half-written record for the next commit to follow.
      (void)file->Truncate(base);
    }
  }
  if (!status.ok()) {
    LogError(absl::StrCat("SPOOL: write failed, ", batch.size(),
                          " messages not spooled: ", status.message()));
  }
  {
    MutexLock lock(&mu_);
    pending_bytes_ -= std::min(pending_bytes_, batch_bytes);
    if (status.ok()) {
      disk_bytes_ += buffer.size();
      auto segment = segments_.find(segment_key);
      for (size_t i = 0; i < batch.size(); ++i) {
        unacked_.emplace(batch[i].sequence, locations[i]);
        ready_.push_back(batch[i].sequence);
        if (segment != segments_.end()) ++segment->second.unacked;
      }
      stats_.appended += batch.size();
      if (!batch.empty()) ++stats_.syncs;
    } else {
      stats_.write_failed += batch.size();
    }
    // Retire a fully acknowledged active segment once it is big enough to
    // matter, so its space comes back without waiting for new messages.
    auto active = segments_.find(active_);
    if (active != segments_.end() && active->second.unacked == 0 &&
        active->second.file->size() >=
            std::min(options_.segment_bytes, options_.max_bytes / 4)) {
      active_ = 0;
    }
    DeleteAckedSegmentsLocked();
  }
  const absl::Status outcome =
      status.ok()
          ? absl::OkStatus()
          : Error(absl::StatusCode::kUnavailable, reason::kSpoolWriteFailed,
                  absl::StrCat("the message could not be written to "
                               "the spool: ",
                               status.message()));
  for (Pending& p : batch) {
    if (p.done) p.done(outcome);
  }
  if (status.ok() && !batch.empty()) {
    MutexLock lock(&wake_mu_);
    if (wake_) wake_();
  }
}

void Spool::DeleteAckedSegmentsLocked() {
  while (!segments_.empty()) {
    auto oldest = segments_.begin();
    if (oldest->first == active_ || oldest->second.unacked > 0) break;
    const uint64_t size = oldest->second.file->size();
    absl::Status removed = files_->RemoveFile(SegmentPath(oldest->first));
    if (!removed.ok()) {
      LogWarning(absl::StrCat("SPOOL: ", removed.message()));
      break;
    }
    disk_bytes_ -= std::min(disk_bytes_, size);
    segments_.erase(oldest);
  }
}

std::vector<Message> Spool::TakeReady(size_t max_messages, size_t max_bytes) {
  std::vector<Message> out;
  MutexLock lock(&mu_);
  size_t bytes = 0;
  std::string record;
  while (!ready_.empty() && out.size() < max_messages) {
    const uint64_t sequence = ready_.front();
    auto it = unacked_.find(sequence);
    if (it == unacked_.end()) {
      ready_.pop_front();
      continue;
    }
    const Location location = it->second;
    const size_t size = location.length + kSpoolRecordHeaderBytes;
    if (!out.empty() && bytes + size > max_bytes) break;
    ready_.pop_front();
    auto segment = segments_.find(location.segment);
    absl::Status read =
        segment == segments_.end()
            ? absl::NotFoundError("its segment is gone")
            : segment->second.file->ReadAt(location.offset, size, &record);
    SpoolRecord decoded;
    if (read.ok()) {
      absl::StatusOr<SpoolRecord> parsed = ReadSpoolRecord(record);
      if (!parsed.ok() || parsed->size != size ||
          parsed->type != SpoolRecordType::kData ||
          parsed->sequence != sequence) {
        read = absl::DataLossError("it changed on disk (CRC mismatch)");
      } else {
        decoded = *parsed;
      }
    }
    if (!read.ok()) {
      LogError(absl::StrCat("SPOOL: cannot read back message ", sequence,
                            ", dropping it: ", read.message()));
      ++stats_.corrupt;
      unacked_.erase(it);
      if (segment != segments_.end() && segment->second.unacked > 0) {
        --segment->second.unacked;
      }
      continue;
    }
    Message message;
    message.topic = std::string(decoded.topic);
    message.payload = std::string(decoded.payload);
    message.level = DeliveryLevel::kDurable;
    message.enqueued = clock_->MonotonicNow();
    message.spool_sequence = sequence;
    bytes += size;
    out.push_back(std::move(message));
  }
  return out;
}

void Spool::Ack(uint64_t sequence) {
  MutexLock lock(&mu_);
  auto it = unacked_.find(sequence);
  if (it == unacked_.end()) return;
  auto segment = segments_.find(it->second.segment);
  if (segment != segments_.end() && segment->second.unacked > 0) {
    --segment->second.unacked;
  }
  unacked_.erase(it);
  ++stats_.acked;
  pending_acks_.push_back(sequence);
}

void Spool::Flush() {
  MutexLock lock(&mu_);
  const uint64_t target = ++flush_requested_;
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return flush_done_ >= target;
  };
  mu_.Await(done);
}

SpoolStats Spool::stats() const {
  MutexLock lock(&mu_);
  SpoolStats stats = stats_;
  stats.spooled = unacked_.size() + pending_.size();
  stats.bytes = disk_bytes_;
  stats.segments = segments_.size();
  return stats;
}

bool Spool::has_ready() const {
  MutexLock lock(&mu_);
  return !ready_.empty();
}

}  // namespace cloudlink::publish

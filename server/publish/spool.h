#pragma once

// The durable publish spool: DURABLE messages are written to
// `cloud.d/spool/` (mode 0700) and fsynced before their producer is acked;
// the link replays them from here, across restarts, until the broker
// acknowledges each one.
//
// On disk: append-only segment files `seg-<first sequence, 20 digits>.log`
// (a new one at each open and whenever the active one reaches
// segment_bytes). Each record (spool_record.h) is
//   u32 body length | u32 CRC32C of the body | body
// with body = u8 type | u64 sequence | (data: u16 topic length | topic |
// payload), all little-endian; type 1 is a message, type 2 says "sequence
// was acknowledged by the broker". Ack records are not fsynced on their own
// (losing one only means a duplicate delivery). The oldest segments are
// deleted once every message in them is acknowledged.
//
// Group commit: Append queues the record for the spool's writer thread,
// which writes everything queued so far, fsyncs once, then calls all their
// completions and the wake callback.
//
// Open scans every segment; a torn or corrupt record (length past the end
// of the file, CRC mismatch, bad type) is logged ("SPOOL: ..."), counted
// (stats().corrupt), and its segment is truncated there; every intact
// record before it is kept and replayed. A segment name that is a symbolic
// link (or not a regular file) is logged and left alone: the spool never
// reads, truncates or writes through a link (state::FileSystem), so a
// segment created later under that name fails to open.
//
// When the directory disappears (a Reclaim removes cloud.d/), the spool
// notices at its next commit, logs it, forgets the old claim's messages
// and starts over in a new directory.
//
// Bounded by max_bytes (the segment files' total size, default 256 MiB,
// cloudlinkd --spool-bytes): when full, Append fails with RESOURCE_EXHAUSTED
// SPOOL_FULL or waits for room, as the producer chooses.
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/common/mutex.h"
#include "server/common/thread_role.h"
#include "server/publish/message.h"
#include "server/state/file_system.h"

namespace cloudlink::publish {

struct SpoolOptions {
  std::string dir;  // <lib>/cloud.d/spool
  size_t max_bytes = size_t{256} << 20;
  size_t segment_bytes = size_t{8} << 20;
};

struct SpoolStats {
  uint64_t spooled = 0;         // messages not yet acknowledged by the broker
  uint64_t bytes = 0;           // segment files' total size on disk
  uint64_t segments = 0;        // segment files on disk
  uint64_t appended = 0;        // messages committed since open
  uint64_t acked = 0;           // messages acknowledged since open
  uint64_t replayed = 0;        // unacknowledged messages found at open
  uint64_t syncs = 0;           // fsyncs of data (group commits)
  uint64_t rejected = 0;        // refused at once (SPOOL_FULL, too large)
  uint64_t wait_timed_out = 0;  // waited for room and gave up
  uint64_t write_failed = 0;    // appends failed by a write or fsync error
  uint64_t corrupt = 0;         // torn or corrupt records found at open
};

class Spool {
 public:
  // Creates the directory (and missing parents) or gives an existing one
  // mode 0700, scans the segments (see above) and starts the writer thread.
  // Every disk operation goes through `files` (the filesystem seam). Errors:
  // UNAVAILABLE SPOOL_OPEN_FAILED (the directory or a segment cannot be
  // created, listed, read or truncated). `files` and `clock` (it stamps
  // Message::enqueued and measures Append's waits) must outlive the spool.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(
      SpoolOptions options,
      state::FileSystem* files = state::DefaultFileSystem(),
      Clock* clock = RealClock());
  // Commits what was appended, then stops the writer; later appends fail
  // with UNAVAILABLE SHUTTING_DOWN.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Called on the writer thread after each group commit that made messages
  // ready for TakeReady; the link sets it to wake its thread. nullptr
  // removes it.
  void SetWakeCallback(std::function<void()> wake);

  // Queues a message for the next group commit. On OK, `done` (may be
  // empty) is called once, on the writer thread: OK after the fsync, or
  // UNAVAILABLE SPOOL_WRITE_FAILED. On error `done` is NOT called:
  //   INVALID_ARGUMENT MESSAGE_TOO_LARGE  larger than a segment, or than
  //                                       max_bytes;
  //   RESOURCE_EXHAUSTED SPOOL_FULL       full and !wait;
  //   DEADLINE_EXCEEDED SPOOL_WAIT_TIMEOUT  waited until `wait_deadline`
  //                                       (on the spool's clock) or
  //                                       `cancelled()` (both polled every
  //                                       50 ms);
  //   UNAVAILABLE SHUTTING_DOWN           the spool is closing.
  absl::Status Append(
      std::string topic, std::string payload, Completion done,
      bool wait = false,
      MonotonicTime wait_deadline = MonotonicTime::InfiniteFuture(),
      const std::function<bool()>& cancelled = nullptr);

  // As Append without waiting, for a producer that waits for room its own
  // way (the API's Publish stream, off its gRPC thread): a full spool
  // answers RESOURCE_EXHAUSTED SPOOL_FULL without counting a refusal. On
  // any error `topic`, `payload` and `done` stay with the caller, untouched.
  absl::Status TryAppend(std::string& topic, std::string& payload,
                         Completion& done);

  // Committed messages not handed out yet (oldest first; at open, every
  // unacknowledged one), up to `max_messages` and about `max_bytes` (at
  // least one when any is ready). Each has level kDurable, its
  // spool_sequence, enqueued = now and no completion. A message handed out
  // stays in the spool until Ack; it is handed out again only after a
  // reopen. A record that cannot be read back is logged and skipped.
  std::vector<Message> TakeReady(size_t max_messages, size_t max_bytes);

  // The broker acknowledged `sequence`: records it (an ack record) and
  // deletes the oldest segments once fully acknowledged. Unknown or
  // repeated sequences are ignored.
  void Ack(uint64_t sequence);

  // Waits until everything appended or acked before the call is written
  // (and the appends fsynced), for tests and orderly shutdown.
  void Flush();

  // Drops every message of the spool and starts it empty (a Reclaim: the
  // old claim's messages must not reach the new claim's Space). Appends not
  // committed yet complete with `why`; committed ones (their producers were
  // acked at the fsync) are dropped with their segment files, whose
  // descriptors are closed; messages handed out by TakeReady are forgotten
  // (their Ack is ignored). Runs on the writer thread; returns when done,
  // with how many messages were dropped or failed.
  size_t FailAll(const absl::Status& why);

  SpoolStats stats() const;
  bool has_ready() const;

 private:
  struct Location {
    uint64_t segment = 0;  // first sequence of its segment (its name)
    uint64_t offset = 0;   // of the record's header
    uint32_t length = 0;   // body length
  };
  struct Segment {
    std::unique_ptr<state::AppendableFile> file;
    uint64_t unacked = 0;  // data records in it not yet acked
  };
  struct Pending {
    uint64_t sequence = 0;
    std::string topic;
    std::string payload;
    Completion done;
  };

  Spool(SpoolOptions options, state::FileSystem* files, Clock* clock)
      : options_(std::move(options)), files_(files), clock_(clock) {}
  absl::Status Load();
  absl::Status LoadSegment(uint64_t first, const std::string& name);
  std::string SegmentPath(uint64_t first) const;
  void WriterLoop();
  // The write-and-sync of one batch.
  void Commit(std::vector<Pending> batch, std::vector<uint64_t> acks)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_role_);
  void DeleteAckedSegmentsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts over when the directory was removed.
  void RecreateIfRemoved() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_role_);
  // FailAll's work: fails `unwritten`, drops everything committed.
  size_t DropAll(std::vector<Pending> unwritten, const absl::Status& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_role_);
  size_t UsedBytesLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Append and TryAppend: moves from its arguments only on success;
  // `count_full`: a full spool's refusal counts in SpoolStats::rejected.
  absl::Status AppendImpl(std::string& topic, std::string& payload,
                          Completion& done, bool wait, bool count_full,
                          MonotonicTime wait_deadline,
                          const std::function<bool()>& cancelled);

  const SpoolOptions options_;
  state::FileSystem* const files_;
  Clock* const clock_;

  // The writer thread's: it alone writes, syncs and truncates segment files,
  // outside mu_ (which only guards the bookkeeping), so commits must never
  // run anywhere else.
  ThreadRole writer_role_{"spool writer"};

  mutable Mutex mu_;
  std::map<uint64_t, Segment> segments_ ABSL_GUARDED_BY(mu_);  // by first seq
  uint64_t active_ ABSL_GUARDED_BY(mu_) = 0;  // key of the active segment
  uint64_t disk_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  // Committed, unacknowledged messages by sequence.
  std::map<uint64_t, Location> unacked_ ABSL_GUARDED_BY(mu_);
  // Committed and not handed out: sequences in order.
  std::deque<uint64_t> ready_ ABSL_GUARDED_BY(mu_);
  std::vector<Pending> pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> pending_acks_ ABSL_GUARDED_BY(mu_);
  uint64_t flush_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t flush_done_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  // FailAll requests, served by the writer like flushes.
  uint64_t drop_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t drop_done_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status drop_why_ ABSL_GUARDED_BY(mu_);
  size_t drop_count_ ABSL_GUARDED_BY(mu_) = 0;
  SpoolStats stats_ ABSL_GUARDED_BY(mu_);
  Mutex wake_mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(wake_mu_);
  std::thread writer_;
};

}  // namespace cloudlink::publish

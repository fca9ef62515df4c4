// The spool reader (server/publish/spool.h): Spool::Open over a spool
// directory whose segment files hold the fuzz input, then replay, ack and
// one new append.
//
// The directory lives in an in-memory state::FileSystem (the filesystem seam
// the spool goes through), so each run costs no disk I/O or fsync; the spool
// code is the real one.
//
// Input: byte 0 flags (bit 0: rewrite each record's CRC to match, so the
// fuzzer reaches the body decoder; bit 1: two segments), byte 1 the split
// point, bytes 2-3 the segments' first sequences; the rest the bytes.
// Checks: Open succeeds (a corrupt tail is truncated, not fatal); every
// replayed message has a distinct sequence > 0 and topic ≤ 65535 bytes;
// `replayed` matches; after acking all of them a new append commits and
// gets a sequence no replayed message has.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/common/mutex.h"
#include "server/common/notification.h"
#include "server/publish/crc32c.h"
#include "server/publish/spool.h"
#include "server/state/file_system.h"

namespace cloudlink::fuzz {
namespace {

// Files are strings in a map guarded by one mutex; directories are names.
// Only what the spool uses does anything.
class MemoryFileSystem : public state::FileSystem {
 public:
  void Put(const std::string& path, std::string data) {
    MutexLock lock(&mu_);
    files_[path] = std::make_shared<std::string>(std::move(data));
  }

  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    MutexLock lock(&mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return absl::NotFoundError(path);
    return *it->second;
  }
  absl::Status WriteFileAtomic(const std::string& path,
                               absl::string_view content,
                               mode_t mode) override {
    Put(path, std::string(content));
    return absl::OkStatus();
  }
  absl::Status MakeDirs(const std::string& path, mode_t mode) override {
    MutexLock lock(&mu_);
    dirs_.insert(path);
    return absl::OkStatus();
  }
  absl::Status SetMode(const std::string& path, mode_t mode) override {
    return absl::OkStatus();
  }
  absl::Status RemoveFile(const std::string& path) override {
    MutexLock lock(&mu_);
    files_.erase(path);
    return absl::OkStatus();
  }
  absl::Status RemoveTree(const std::string& path) override {
    return absl::UnimplementedError("RemoveTree");
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    return absl::UnimplementedError("Rename");
  }
  bool Exists(const std::string& path) override {
    MutexLock lock(&mu_);
    return dirs_.count(path) > 0 || files_.count(path) > 0;
  }
  absl::StatusOr<std::vector<std::string>> ListFiles(
      const std::string& dir) override {
    MutexLock lock(&mu_);
    std::vector<std::string> names;
    const std::string prefix = dir + "/";
    for (const auto& file : files_) {
      if (absl::StartsWith(file.first, prefix)) {
        names.push_back(file.first.substr(prefix.size()));
      }
    }
    return names;  // std::map keeps them sorted
  }
  absl::StatusOr<std::unique_ptr<state::AppendableFile>> OpenAppendable(
      const std::string& path, bool create) override;

 private:
  friend class MemoryFile;
  Mutex mu_;
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<std::string>> files_
      ABSL_GUARDED_BY(mu_);
};

class MemoryFile : public state::AppendableFile {
 public:
  MemoryFile(MemoryFileSystem* fs, std::shared_ptr<std::string> data)
      : fs_(fs), data_(std::move(data)) {}
  absl::Status Append(absl::string_view bytes) override {
    MutexLock lock(&fs_->mu_);
    data_->append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status ReadAt(uint64_t offset, size_t size, std::string* out) override {
    MutexLock lock(&fs_->mu_);
    if (offset > data_->size() || size > data_->size() - offset) {
      return absl::OutOfRangeError("read past the end");
    }
    out->assign(*data_, offset, size);
    return absl::OkStatus();
  }
  absl::Status Truncate(uint64_t size) override {
    MutexLock lock(&fs_->mu_);
    if (size < data_->size()) data_->resize(size);
    return absl::OkStatus();
  }
  uint64_t size() const override {
    MutexLock lock(&fs_->mu_);
    return data_->size();
  }

 private:
  MemoryFileSystem* fs_;
  std::shared_ptr<std::string> data_;
};

absl::StatusOr<std::unique_ptr<state::AppendableFile>>
MemoryFileSystem::OpenAppendable(const std::string& path, bool create) {
  MutexLock lock(&mu_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!create) return absl::NotFoundError(path);
    it = files_.emplace(path, std::make_shared<std::string>()).first;
  }
  return std::unique_ptr<state::AppendableFile>(
      new MemoryFile(this, it->second));
}

uint32_t GetU32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

// Rewrites every complete record's CRC so the body decoder is reached.
void FixCrcs(std::string* segment) {
  size_t offset = 0;
  while (segment->size() - offset >= 8) {
    const uint32_t length = GetU32(*segment, offset);
    if (length > segment->size() - offset - 8) break;
    const uint32_t crc =
        publish::Crc32c(absl::string_view(*segment).substr(offset + 8, length));
    for (int i = 0; i < 4; ++i) {
      (*segment)[offset + 4 + i] = static_cast<char>(crc >> (8 * i));
    }
    offset += 8 + length;
  }
}

constexpr char kDir[] = "/spool";

std::string SegmentPath(uint64_t first) {
  return absl::StrFormat("%s/seg-%020d.log", kDir, first);
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const uint8_t flags = in.Byte();
  const uint8_t split = in.Byte();
  const uint64_t first = 1 + in.Byte();
  const uint64_t second = first + 1 + in.Byte();
  std::string bytes = in.Rest();

  std::vector<std::pair<uint64_t, std::string>> segments;
  if (flags & 2) {
    const size_t at = bytes.size() * split / 256;
    segments.emplace_back(first, bytes.substr(0, at));
    segments.emplace_back(second, bytes.substr(at));
  } else {
    segments.emplace_back(first, bytes);
  }
  MemoryFileSystem fs;
  for (auto& segment : segments) {
    if (flags & 1) FixCrcs(&segment.second);
    fs.Put(SegmentPath(segment.first), segment.second);
  }

  publish::SpoolOptions options;
  options.dir = kDir;
  options.max_bytes = size_t{1} << 20;
  options.segment_bytes = 4096;
  absl::StatusOr<std::unique_ptr<publish::Spool>> spool =
      publish::Spool::Open(options, &fs);
  FUZZ_CHECK(spool.ok(), "Open failed: " + spool.status().ToString());

  std::vector<publish::Message> replayed =
      (*spool)->TakeReady(size_t{1} << 20, size_t{1} << 30);
  FUZZ_CHECK(replayed.size() == (*spool)->stats().replayed,
             "replayed count differs from the messages handed out");
  std::set<uint64_t> sequences;
  for (const publish::Message& m : replayed) {
    FUZZ_CHECK(m.spool_sequence > 0, "sequence 0 replayed");
    FUZZ_CHECK(sequences.insert(m.spool_sequence).second,
               "a sequence replayed twice");
    FUZZ_CHECK(m.topic.size() <= 0xFFFF, "topic too long");
  }
  for (const publish::Message& m : replayed) (*spool)->Ack(m.spool_sequence);

  Notification committed;
  absl::Status outcome;
  absl::Status appended =
      (*spool)->Append("node-instance-info", "payload", [&](absl::Status s) {
        outcome = s;
        committed.Notify();
      });
  if (appended.ok()) {
    (*spool)->Flush();
    FUZZ_CHECK(committed.WaitForNotificationWithTimeout(absl::Seconds(30)),
               "append not committed");
    FUZZ_CHECK(outcome.ok(), "append failed: " + outcome.ToString());
    std::vector<publish::Message> fresh = (*spool)->TakeReady(10, 1 << 20);
    FUZZ_CHECK(fresh.size() == 1, "the appended message is not ready");
    FUZZ_CHECK(fresh[0].spool_sequence > 0 &&
                   sequences.count(fresh[0].spool_sequence) == 0,
               "the new message reuses a replayed sequence");
    FUZZ_CHECK(fresh[0].payload == "payload", "payload changed");
  } else {
    FUZZ_CHECK(appended.code() == absl::StatusCode::kResourceExhausted,
               "append refused: " + appended.ToString());
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

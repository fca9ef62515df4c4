#include "server/state/file_system.h"

#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_env.h"

namespace cloudlink::state {
namespace {

using ::cloudlink::testing::FileExists;
using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;
using ::testing::ElementsAre;

TEST(PosixFileSystemTest, WriteFileAtomicSetsTheModeWhateverTheUmask) {
  TempDir tmp;
  PosixFileSystem fs;
  const mode_t old = umask(077);
  ASSERT_TRUE(fs.WriteFileAtomic(tmp.Join("f"), "one", 0644).ok());
  umask(old);
  EXPECT_EQ(FileMode(tmp.Join("f")), 0644);
  ASSERT_TRUE(fs.WriteFileAtomic(tmp.Join("f"), "two", 0600).ok());
  EXPECT_EQ(ReadFileOrEmpty(tmp.Join("f")), "two");
  EXPECT_EQ(FileMode(tmp.Join("f")), 0600);
  EXPECT_FALSE(FileExists(tmp.Join("f.tmp")));
  absl::StatusOr<std::string> read = fs.ReadFile(tmp.Join("f"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "two");
  EXPECT_TRUE(absl::IsNotFound(fs.ReadFile(tmp.Join("missing")).status()));
}

TEST(PosixFileSystemTest,
     MakeDirsLeavesAnExistingDirectoryAloneSetModeDoesNot) {
  TempDir tmp;
  PosixFileSystem fs;
  ASSERT_TRUE(fs.MakeDirs(tmp.Join("a/b"), 0700).ok());
  EXPECT_EQ(FileMode(tmp.Join("a")), 0700);
  EXPECT_EQ(FileMode(tmp.Join("a/b")), 0700);
  ASSERT_TRUE(fs.MakeDirs(tmp.Join("a/b"), 0755).ok());
  EXPECT_EQ(FileMode(tmp.Join("a/b")), 0700);
  ASSERT_TRUE(fs.SetMode(tmp.Join("a/b"), 0750).ok());
  EXPECT_EQ(FileMode(tmp.Join("a/b")), 0750);
  EXPECT_TRUE(absl::IsNotFound(fs.SetMode(tmp.Join("missing"), 0700)));
  ASSERT_TRUE(WriteFile(tmp.Join("file"), "x").ok());
  EXPECT_EQ(fs.MakeDirs(tmp.Join("file"), 0700).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PosixFileSystemTest, ListFilesNamesRegularFilesSorted) {
  TempDir tmp;
  PosixFileSystem fs;
  ASSERT_TRUE(WriteFile(tmp.Join("b"), "").ok());
  ASSERT_TRUE(WriteFile(tmp.Join("a"), "").ok());
  ASSERT_TRUE(fs.MakeDirs(tmp.Join("dir"), 0700).ok());
  ASSERT_EQ(symlink("a", tmp.Join("link").c_str()), 0);
  absl::StatusOr<std::vector<std::string>> names = fs.ListFiles(tmp.path());
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("a", "b", "link"));
  EXPECT_TRUE(absl::IsNotFound(fs.ListFiles(tmp.Join("missing")).status()));
}

// A link where a state file should be (made by someone who could write to
// the directory) never lets a write reach its target.
TEST(PosixFileSystemTest, NothingIsDoneThroughASymbolicLink) {
  TempDir tmp;
  PosixFileSystem fs;
  const std::string victim = tmp.Join("victim.txt");
  ASSERT_TRUE(WriteFile(victim, "precious\n").ok());
  ASSERT_EQ(chmod(victim.c_str(), 0644), 0);
  const std::string link = tmp.Join("seg.log");
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);

  for (bool create : {false, true}) {
    absl::StatusOr<std::unique_ptr<AppendableFile>> opened =
        fs.OpenAppendable(link, create);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(opened.status().message()),
                ::testing::HasSubstr("symbolic link"));
  }
  absl::StatusOr<std::string> read = fs.ReadFile(link);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs.SetMode(link, 0600).code(),
            absl::StatusCode::kFailedPrecondition);
  // A link to a directory is not chmod-ed either.
  ASSERT_TRUE(fs.MakeDirs(tmp.Join("dir"), 0755).ok());
  ASSERT_EQ(symlink(tmp.Join("dir").c_str(), tmp.Join("dirlink").c_str()), 0);
  EXPECT_FALSE(fs.SetMode(tmp.Join("dirlink"), 0700).ok());
  EXPECT_EQ(FileMode(tmp.Join("dir")), 0755);
  // An atomic write replaces the link itself.
  ASSERT_TRUE(fs.WriteFileAtomic(link, "new", 0600).ok());
  EXPECT_EQ(ReadFileOrEmpty(link), "new");

  EXPECT_EQ(ReadFileOrEmpty(victim), "precious\n");
  EXPECT_EQ(FileMode(victim), 0644);
  // A FIFO is not a file to read (and does not block the caller).
  ASSERT_EQ(mkfifo(tmp.Join("fifo").c_str(), 0600), 0);
  EXPECT_FALSE(fs.ReadFile(tmp.Join("fifo")).ok());
  EXPECT_FALSE(fs.OpenAppendable(tmp.Join("fifo"), false).ok());
}

TEST(PosixFileSystemTest, OwnershipIsReadAndKeptByARewrite) {
  TempDir tmp;
  PosixFileSystem fs;
  const std::string path = tmp.Join("claim.conf");
  ASSERT_TRUE(fs.WriteFileAtomic(path, "one", 0600).ok());
  absl::StatusOr<FileOwnership> ownership = fs.Ownership(path);
  ASSERT_TRUE(ownership.ok()) << ownership.status();
  EXPECT_EQ(ownership->uid, geteuid());
  EXPECT_EQ(ownership->mode, 0600u);
  ownership->mode = 0604;
  ASSERT_TRUE(fs.WriteFileAtomicWithOwnership(path, "two", *ownership).ok());
  EXPECT_EQ(ReadFileOrEmpty(path), "two");
  EXPECT_EQ(FileMode(path), 0604);
  EXPECT_TRUE(absl::IsNotFound(fs.Ownership(tmp.Join("missing")).status()));
  ASSERT_EQ(symlink(path.c_str(), tmp.Join("link").c_str()), 0);
  EXPECT_EQ(fs.Ownership(tmp.Join("link")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PosixFileSystemTest, AppendableFileAppendsReadsAndTruncates) {
  TempDir tmp;
  PosixFileSystem fs;
  const std::string path = tmp.Join("seg");
  EXPECT_TRUE(absl::IsNotFound(fs.OpenAppendable(path, false).status()));
  {
    absl::StatusOr<std::unique_ptr<AppendableFile>> file =
        fs.OpenAppendable(path, true);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(FileMode(path), 0600);
    ASSERT_TRUE((*file)->Append("hello ").ok());
    ASSERT_TRUE((*file)->Append("world").ok());
    ASSERT_TRUE((*file)->Sync().ok());
    EXPECT_EQ((*file)->size(), 11u);
    std::string out;
    ASSERT_TRUE((*file)->ReadAt(6, 5, &out).ok());
    EXPECT_EQ(out, "world");
    EXPECT_EQ((*file)->ReadAt(6, 6, &out).code(),
              absl::StatusCode::kOutOfRange);
    ASSERT_TRUE((*file)->Truncate(5).ok());
    EXPECT_EQ((*file)->size(), 5u);
  }
  EXPECT_EQ(ReadFileOrEmpty(path), "hello");
  // Reopened, it appends at its end.
  absl::StatusOr<std::unique_ptr<AppendableFile>> again =
      fs.OpenAppendable(path, false);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->size(), 5u);
  ASSERT_TRUE((*again)->Append("!").ok());
  EXPECT_EQ(ReadFileOrEmpty(path), "hello!");
}

// Fails every step named, after recording each step it sees.
class StepFailingFileSystem : public PosixFileSystem {
 public:
  using PosixFileSystem::WriteStep;
  std::vector<WriteStep> seen;
  std::vector<WriteStep> failing;

 protected:
  absl::Status BeforeStep(WriteStep step, const std::string& path) override {
    seen.push_back(step);
    for (WriteStep f : failing) {
      if (f == step) return absl::UnavailableError(absl::StrCat("at ", path));
    }
    return absl::OkStatus();
  }
};

// The AppendableFile's writes stop at their steps as WriteFileAtomic's do.
TEST(PosixFileSystemTest, AppendableFileStepsCanFail) {
  using Step = StepFailingFileSystem::WriteStep;
  TempDir tmp;
  StepFailingFileSystem fs;
  const std::string path = tmp.Join("seg");
  absl::StatusOr<std::unique_ptr<AppendableFile>> file =
      fs.OpenAppendable(path, true);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Truncate(2).ok());
  EXPECT_THAT(fs.seen,
              ElementsAre(Step::kAppend, Step::kAppendSync, Step::kTruncate));

  fs.failing = {Step::kAppend, Step::kAppendSync, Step::kTruncate};
  EXPECT_TRUE(absl::IsUnavailable((*file)->Append("def")));
  EXPECT_TRUE(absl::IsUnavailable((*file)->Sync()));
  EXPECT_TRUE(absl::IsUnavailable((*file)->Truncate(0)));
  EXPECT_EQ((*file)->size(), 2u);  // nothing happened
  EXPECT_EQ(ReadFileOrEmpty(path), "ab");
}

TEST(PosixFileSystemTest, WriteFileAtomicStepsInOrder) {
  using Step = StepFailingFileSystem::WriteStep;
  TempDir tmp;
  StepFailingFileSystem fs;
  ASSERT_TRUE(fs.WriteFileAtomic(tmp.Join("f"), "x", 0600).ok());
  EXPECT_THAT(fs.seen, ElementsAre(Step::kOpenTemp, Step::kWrite, Step::kSync,
                                   Step::kRename, Step::kSyncDir));
}

TEST(DefaultFileSystemTest, IsOneRealFileSystem) {
  TempDir tmp;
  FileSystem* fs = DefaultFileSystem();
  ASSERT_EQ(fs, DefaultFileSystem());
  ASSERT_TRUE(fs->WriteFileAtomic(tmp.Join("f"), "x", 0600).ok());
  EXPECT_EQ(ReadFileOrEmpty(tmp.Join("f")), "x");
}

}  // namespace
}  // namespace cloudlink::state

#include "server/common/process_hygiene.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace cloudlink {
namespace {

std::string LimitText(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited")
                                : absl::StrCat(value);
}

}  // namespace

std::vector<HygieneStep> ApplyProcessHygiene(const HygieneOptions& options) {
  std::vector<HygieneStep> report;
  if (options.allow_core_dumps) {
    report.push_back({true, "core dumps allowed (--allow-core-dumps)"});
  } else {
    const rlimit no_core = {0, 0};
    const bool limited = setrlimit(RLIMIT_CORE, &no_core) == 0;
    const int limit_errno = errno;
    const bool undumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
    if (limited && undumpable) {
      report.push_back({true, "core dumps off"});
    } else {
      report.push_back(
          {false, absl::StrCat("core dumps could not be turned off: ",
                               limited ? ""
                                       : absl::StrCat("RLIMIT_CORE: ",
                                                      strerror(limit_errno)),
                               undumpable ? ""
                                          : absl::StrCat(" PR_SET_DUMPABLE: ",
                                                         strerror(errno)))});
    }
  }

  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) {
    report.push_back(
        {false, absl::StrCat("open files limit unknown: ", strerror(errno))});
  } else if (files.rlim_cur != files.rlim_max) {
    const rlim_t before = files.rlim_cur;
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) == 0) {
      report.push_back(
          {true, absl::StrCat("open files limit ", LimitText(before), " -> ",
                              LimitText(files.rlim_max))});
    } else {
      report.push_back(
          {false, absl::StrCat("open files limit stays ", LimitText(before),
                               ": ", strerror(errno))});
    }
  } else {
    report.push_back(
        {true, absl::StrCat("open files limit ", LimitText(files.rlim_cur))});
  }

  if (chdir("/") != 0) {
    report.push_back(
        {false, absl::StrCat("cannot change to /: ", strerror(errno))});
  }
  return report;
}

std::string AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  std::string dir = cwd;
  if (dir != "/") dir.push_back('/');
  std::string relative = path;
  while (relative.size() >= 2 && relative.compare(0, 2, "./") == 0) {
    relative.erase(0, 2);
  }
  if (relative == ".") relative.clear();
  std::string result = dir + relative;
  while (result.size() > 1 && result.back() == '/') result.pop_back();
  return result;
}

}  // namespace cloudlink

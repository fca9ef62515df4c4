#include "tests/testing/thread_switches.h"

#include <dirent.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cloudlink::testing {

int64_t ThreadSwitches(pid_t pid, const std::string& name) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return -1;
  int64_t found = -1;
  while (dirent* entry = readdir(dir)) {
    const std::string task = absl::StrCat(tasks, "/", entry->d_name);
    std::ifstream comm(task + "/comm");
    std::string got;
    if (!std::getline(comm, got) || got != name) continue;
    std::ifstream status(task + "/status");
    if (found < 0) found = 0;
    for (std::string line; std::getline(status, line);) {
      absl::string_view rest = line;
      int64_t n = 0;
      if ((absl::ConsumePrefix(&rest, "voluntary_ctxt_switches:") ||
           absl::ConsumePrefix(&rest, "nonvoluntary_ctxt_switches:")) &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &n)) {
        found += n;
      }
    }
  }
  closedir(dir);
  return found;
}

int ThreadsNamed(pid_t pid, std::initializer_list<absl::string_view> prefixes) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(absl::StrCat(tasks, "/", entry->d_name, "/comm"));
    std::string name;
    if (!std::getline(comm, name)) continue;
    for (absl::string_view prefix : prefixes) {
      if (absl::StartsWith(name, prefix)) {
        ++count;
        break;
      }
    }
  }
  closedir(dir);
  return count;
}

int GrpcThreads(pid_t pid) {
  return ThreadsNamed(
      pid, {"grpc", "nexting_thread", "timer_manager", "event_engine",
            "default-executo", "resolver-execut"});
}

}  // namespace cloudlink::testing

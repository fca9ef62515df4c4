#include "server/common/process_hygiene.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cloudlink {
namespace {

std::string LimitText(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited")
                                : absl::StrCat(value);
}

int KernelPolicy(SchedulingPolicy policy) {
  switch (policy) {
    case SchedulingPolicy::kBatch:
      return SCHED_BATCH;
    case SchedulingPolicy::kIdle:
      return SCHED_IDLE;
    case SchedulingPolicy::kOther:
    case SchedulingPolicy::kKeep:
      break;
  }
  return SCHED_OTHER;
}

// Sets `policy` on every thread of the process (sched_setscheduler changes
// one thread on Linux). On a refusal the threads already changed go back.
HygieneStep SetSchedulingPolicy(SchedulingPolicy policy) {
  const std::string name = SchedulingPolicyName(policy);
  if (policy == SchedulingPolicy::kKeep) {
    return {true, "scheduling policy kept (--scheduling-policy=keep)"};
  }
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) {
    return {false,
            absl::StrCat("scheduling policy ", name,
                         " not set: /proc/self/task: ", strerror(errno))};
  }
  std::vector<std::pair<pid_t, int>> changed;  // thread, its old policy
  std::string failure;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const pid_t tid = static_cast<pid_t>(atoi(entry->d_name));
    const int old_policy = sched_getscheduler(tid);
    const sched_param param = {0};
    if (old_policy < 0 ||
        sched_setscheduler(tid, KernelPolicy(policy), &param) != 0) {
      if (errno == ESRCH) continue;  // the thread ended meanwhile
      failure = strerror(errno);
      break;
    }
    changed.emplace_back(tid, old_policy);
  }
  closedir(tasks);
  if (failure.empty()) return {true, absl::StrCat("scheduling policy ", name)};
  for (const auto& [tid, old_policy] : changed) {
    const sched_param param = {0};
    sched_setscheduler(tid, old_policy, &param);
  }
  return {false,
          absl::StrCat("scheduling policy ", name,
                       " not set, the policy stays as started: ", failure)};
}

}  // namespace

bool ParseSchedulingPolicy(absl::string_view text, SchedulingPolicy* policy) {
  for (SchedulingPolicy candidate :
       {SchedulingPolicy::kKeep, SchedulingPolicy::kOther,
        SchedulingPolicy::kBatch, SchedulingPolicy::kIdle}) {
    if (text == SchedulingPolicyName(candidate)) {
      *policy = candidate;
      return true;
    }
  }
  return false;
}

std::string SchedulingPolicyName(SchedulingPolicy policy) {
  switch (policy) {
    case SchedulingPolicy::kKeep:
      return "keep";
    case SchedulingPolicy::kOther:
      return "other";
    case SchedulingPolicy::kBatch:
      return "batch";
    case SchedulingPolicy::kIdle:
      return "idle";
  }
  return "batch";
}

bool AbslParseFlag(absl::string_view text, SchedulingPolicy* policy,
                   std::string* error) {
  if (ParseSchedulingPolicy(text, policy)) return true;
  *error = "must be batch, other, idle or keep";
  return false;
}

std::string AbslUnparseFlag(SchedulingPolicy policy) {
  return SchedulingPolicyName(policy);
}

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
  report.push_back(SetSchedulingPolicy(options.scheduling_policy));
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

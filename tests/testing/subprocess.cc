#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace cloudlink::testing {
namespace {

std::string ReadAll(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    SubprocessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  // Build everything the child needs before fork (no allocation after it).
  std::map<std::string, std::string> env_map;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env_map[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env_map[k] = v;
  for (const auto& k : options.unset_env) env_map.erase(k);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env_map) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int in_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  std::string out_path =
      options.stdout_path.empty() ? "/dev/null" : options.stdout_path;
  std::string err_path =
      options.stderr_path.empty() ? "/dev/null" : options.stderr_path;
  int out_fd =
      open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd =
      open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd < 0 || err_fd < 0) {
    return absl::InternalError(absl::StrCat("open output: ", strerror(errno)));
  }
  pid_t pid = fork();
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in_pipe[0], 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so it holds before we kill
  close(in_pipe[0]);
  close(out_fd);
  close(err_fd);
  if (!options.stdin_text.empty()) {
    // Best effort: a child that does not read its stdin must not block us.
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    ssize_t n =
        write(in_pipe[1], options.stdin_text.data(), options.stdin_text.size());
    (void)n;
  }
  close(in_pipe[1]);
  return std::unique_ptr<Subprocess>(new Subprocess(pid, std::move(options)));
}

Subprocess::~Subprocess() {
  if (!reaped_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  } else {
    kill(-pid_, SIGKILL);  // leftovers of the group, if any
  }
  const std::string report = SanitizerReport(Stderr());
  if (!report.empty()) {
    ADD_FAILURE() << "sanitizer report from " << options_.argv[0] << ":\n"
                  << report;
  }
}

std::string SanitizerReport(const std::string& output) {
  size_t start = std::string::npos;
  for (const char* marker :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
        "ERROR: LeakSanitizer", "SUMMARY: UndefinedBehaviorSanitizer"}) {
    start = std::min(start, output.find(marker));
  }
  if (start == std::string::npos) return "";
  return output.substr(start, 4096);
}

void Subprocess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

bool Subprocess::Running() {
  if (reaped_) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    wait_status_ = status;
    return false;
  }
  return true;
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "process ", pid_, " still running after ",
          absl::FormatDuration(timeout),
          options_.stacks_on_timeout ? "\n" + ThreadStacks(pid_) : ""));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return wait_status_;
}

std::string ThreadStacks(pid_t pid) {
  SubprocessOptions gdb;
  gdb.argv = {
      "/usr/bin/gdb",       "-batch", "-nx", "-p", absl::StrCat(pid), "-ex",
      "thread apply all bt"};
  gdb.stacks_on_timeout = false;
  if (access(gdb.argv[0].c_str(), X_OK) != 0) {
    return "(no thread stacks: /usr/bin/gdb is not installed)";
  }
  absl::StatusOr<RunResult> run = Run(gdb, absl::Seconds(20));
  if (!run.ok()) {
    return absl::StrCat("(no thread stacks: ", run.status().message(), ")");
  }
  // Only the threads' frames, thread 1 (main) first: gdb lists them last to
  // first, and its banner and symbol loading are noise.
  std::vector<std::string> threads;
  for (absl::string_view line : absl::StrSplit(run->out, '\n')) {
    if (absl::StartsWith(line, "Thread ")) {
      threads.emplace_back();
    } else if (!absl::StartsWith(line, "#") || threads.empty()) {
      continue;
    }
    absl::StrAppend(&threads.back(), line.substr(0, 200), "\n");
  }
  if (threads.empty()) {
    return absl::StrCat(
        "(no thread stacks: gdb said: ", run->err.substr(0, 512), ")");
  }
  std::string stacks = absl::StrCat("thread stacks of ", pid, ":\n");
  for (auto it = threads.rbegin(); it != threads.rend(); ++it) {
    absl::StrAppend(&stacks, *it);
  }
  return stacks.substr(0, 65536);
}

std::string Subprocess::Stdout() const { return ReadAll(options_.stdout_path); }
std::string Subprocess::Stderr() const { return ReadAll(options_.stderr_path); }

absl::StatusOr<RunResult> Run(SubprocessOptions options,
                              absl::Duration timeout) {
  char tmpl[] = "/tmp/cl.run.XXXXXX";
  char* dir = mkdtemp(tmpl);
  if (dir == nullptr) return absl::InternalError("mkdtemp failed");
  std::string d(dir);
  options.stdout_path = d + "/out";
  options.stderr_path = d + "/err";
  auto proc = Subprocess::Start(options);
  if (!proc.ok()) return proc.status();
  auto status = (*proc)->Wait(timeout);
  RunResult result;
  result.out = (*proc)->Stdout();
  result.err = (*proc)->Stderr();
  proc->reset();  // reaps, and reports sanitizer findings, while err exists
  unlink(options.stdout_path.c_str());
  unlink(options.stderr_path.c_str());
  rmdir(d.c_str());
  if (!status.ok()) return status.status();
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return result;
}

}  // namespace cloudlink::testing

// devcloud: the development cloud for the demo and the
// integration tests.
//
//   devcloud --dir DIR [--port PORT] [--host 127.0.0.1] [--log-level info]
//            [--mosquitto /usr/sbin/mosquitto] [--broker-max-keepalive SECONDS]
//
// Serves HTTPS on HOST:PORT (PORT 0 or absent: a free port) and runs its own
// mosquitto, writes DIR/devcloud.env when ready, and stops (with mosquitto)
// on SIGTERM or SIGINT.

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "tools/devcloud/dev_cloud_server.h"

namespace {

constexpr char kUsage[] =
    "usage: devcloud --dir DIR [--port PORT] [--host 127.0.0.1] "
    "[--log-level debug|info|warning|error] [--mosquitto PATH] "
    "[--broker-max-keepalive SECONDS]\n";

struct Flags {
  cloudlink::devcloud::DevCloudOptions options;
  cloudlink::LogLevel log_level = cloudlink::LogLevel::kInfo;
};

// Accepts "--name value" and "--name=value". False on anything unknown.
bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return false;
    }
    if (arg == "--dir") {
      flags->options.dir = value;
    } else if (arg == "--host") {
      flags->options.host = value;
    } else if (arg == "--port") {
      if (!absl::SimpleAtoi(value, &flags->options.port) ||
          flags->options.port < 0 || flags->options.port > 65535) {
        return false;
      }
    } else if (arg == "--broker-max-keepalive") {
      int& seconds = flags->options.broker_max_keepalive_seconds;
      if (!absl::SimpleAtoi(value, &seconds) || seconds < 10 ||
          seconds > 65535) {
        return false;
      }
    } else if (arg == "--mosquitto") {
      flags->options.mosquitto_path = value;
    } else if (arg == "--log-level") {
      if (!cloudlink::ParseLogLevel(value, &flags->log_level)) return false;
    } else {
      return false;
    }
  }
  return !flags->options.dir.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  cloudlink::SetLogLevel(flags.log_level);

  // Every thread inherits this mask; only the watcher below takes the
  // signals, synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server =
      cloudlink::devcloud::DevCloudServer::Create(std::move(flags.options));
  if (!server.ok()) {
    cloudlink::LogError(server.status().message());
    return 1;
  }

  std::atomic<bool> served{false};
  std::thread watcher([&] {
    bool stopping = false;
    const timespec poll = {0, 100 * 1000 * 1000};
    while (!served) {
      int sig = sigtimedwait(&stop_signals, nullptr, &poll);
      if (sig > 0 && !stopping) {
        cloudlink::LogInfo(absl::StrCat("signal ", sig, ": stopping"));
        stopping = true;
      }
      // Repeated until Serve() returns: a stop that lands before the
      // listener runs would otherwise be lost.
      if (stopping) (*server)->Stop();
    }
  });
  absl::Status status = (*server)->Serve();
  served = true;
  watcher.join();
  if (!status.ok()) {
    cloudlink::LogError(status.message());
    return 1;
  }
  return 0;
}

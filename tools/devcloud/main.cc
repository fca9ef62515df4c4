// devcloud: the development cloud for the demo and the integration tests
// (tools/devcloud/README.md). Flags: the ABSL_FLAGs below (devcloud --help).

#include <signal.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "server/common/command_line.h"
#include "server/common/log.h"
#include "server/common/signals.h"
#include "tools/devcloud/dev_cloud_server.h"

ABSL_FLAG(std::string, dir, "",
          "the dev cloud's directory (state, certificates, devcloud.env); "
          "created if missing; required");
ABSL_FLAG(std::string, host, cloudlink::devcloud::DevCloudOptions().host,
          "the HTTPS listen address");
ABSL_FLAG(int, port, cloudlink::devcloud::DevCloudOptions().port,
          "the HTTPS port, 0 to 65535 (0: a free port)");
ABSL_FLAG(cloudlink::LogLevel, log_level, cloudlink::LogLevel::kInfo,
          "debug, info, warning or error");
ABSL_FLAG(std::string, mosquitto,
          cloudlink::devcloud::DevCloudOptions().mosquitto_path,
          "the mosquitto binary the dev cloud runs as its broker");
ABSL_FLAG(int, broker_max_keepalive,
          cloudlink::devcloud::DevCloudOptions().broker_max_keepalive_seconds,
          "mosquitto's max_keepalive in seconds, 10 to 65535: MQTT 5 clients "
          "asking for more are told this Server Keep Alive (0: mosquitto's "
          "default)");

namespace {

constexpr char kUsage[] =
    "the development cloud for the demo and the integration tests\n"
    "(tools/devcloud/README.md).\n"
    "\n"
    "Usage: devcloud --dir=DIR [--port=PORT] [--host=127.0.0.1] ...\n"
    "\n"
    "Serves HTTPS on HOST:PORT and runs its own mosquitto, writes\n"
    "DIR/devcloud.env when ready, and stops (with mosquitto) on SIGTERM or\n"
    "SIGINT.";

}  // namespace

int main(int argc, char** argv) {
  cloudlink::ParseCommandLineOrExit(
      argc, argv, {"devcloud", "tools/devcloud/main.cc", kUsage});
  cloudlink::devcloud::DevCloudOptions options;
  options.dir = absl::GetFlag(FLAGS_dir);
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.mosquitto_path = absl::GetFlag(FLAGS_mosquitto);
  options.broker_max_keepalive_seconds =
      absl::GetFlag(FLAGS_broker_max_keepalive);
  if (options.dir.empty()) {
    cloudlink::ExitWithFlagError("dir", "is required");
  }
  if (options.port < 0 || options.port > 65535) {
    cloudlink::ExitWithFlagError("port", "must be 0 to 65535");
  }
  const int keepalive = options.broker_max_keepalive_seconds;
  if (keepalive != 0 && (keepalive < 10 || keepalive > 65535)) {
    cloudlink::ExitWithFlagError("broker-max-keepalive",
                                 "must be 10 to 65535 seconds");
  }
  cloudlink::SetLogLevel(absl::GetFlag(FLAGS_log_level));

  // Before any thread starts (signals.h); only the watcher below takes
  // them.
  const cloudlink::BlockedSignals stop_signals({SIGTERM, SIGINT});

  auto server = cloudlink::devcloud::DevCloudServer::Create(std::move(options));
  if (!server.ok()) {
    cloudlink::LogError(server.status().message());
    return 1;
  }

  std::atomic<bool> served{false};
  std::thread watcher([&] {
    bool stopping = false;
    while (!served) {
      const int sig = stop_signals.Wait(absl::Milliseconds(100));
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

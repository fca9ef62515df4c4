// cloudlinkctl: the control CLI of cloudlinkd. See client/cli.h.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/types/optional.h"
#include "client/cli.h"
#include "server/common/grpc_log.h"
#include "server/common/log.h"

int main(int argc, char** argv) {
  // gRPC's own lines (a failed TLS handshake, say) go through our log, and
  // only when $CLOUDLINK_LOG_LEVEL asks: the CLI reports a failed call
  // itself, so by default only errors of its own would show.
  cloudlink::LogLevel level = cloudlink::LogLevel::kError;
  const char* env_level = std::getenv("CLOUDLINK_LOG_LEVEL");
  if (env_level != nullptr) cloudlink::ParseLogLevel(env_level, &level);
  cloudlink::SetLogLevel(level);
  cloudlink::RouteGrpcLogsToOurLog();
  // Buffered standard input, so that `publish` can see the lines already
  // waiting and batch them (cli.cc); nothing here mixes stdio and streams.
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_socket = std::getenv("CLOUDLINK_SOCKET");
  cloudlink::client::CliIo io{
      &std::cin, &std::cout, &std::cerr,
      [](const std::string& name) -> absl::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return absl::nullopt;
        return std::string(value);
      }};
  return cloudlink::client::RunCli(args,
                                   env_socket != nullptr ? env_socket : "", io);
}

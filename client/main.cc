// cloudlinkctl: the control CLI of cloudlinkd. See client/cli.h.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/types/optional.h"
#include "client/cli.h"

int main(int argc, char** argv) {
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

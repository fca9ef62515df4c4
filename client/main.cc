// cloudlinkctl: the control CLI of cloudlinkd. See client/cli.h.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_socket = std::getenv("CLOUDLINK_SOCKET");
  return cloudlink::client::RunCli(args,
                                   env_socket != nullptr ? env_socket : "",
                                   {&std::cin, &std::cout, &std::cerr});
}

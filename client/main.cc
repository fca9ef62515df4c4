// cloudlinkctl: the control CLI of cloudlinkd. See client/cli.h.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli.h"

int main(int argc, char** argv) {
  // Buffered standard input, so that `publish` can see the lines already
  // waiting and batch them (cli.cc); nothing here mixes stdio and streams.
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_socket = std::getenv("CLOUDLINK_SOCKET");
  return cloudlink::client::RunCli(args,
                                   env_socket != nullptr ? env_socket : "",
                                   {&std::cin, &std::cout, &std::cerr});
}

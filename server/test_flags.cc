#include "server/test_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, test_takeover_guard, "",
          "for tests: the clone detection's parameters as TAKEOVERS,WINDOW,"
          "ABRUPT_SESSION,MIN_DELAY,MAX_DELAY (default 3,2m,1m,15s,10m)");
ABSL_FLAG(bool, test_api_shutdown_hangs, false,
          "for tests: the API's shutdown blocks for ever, as gRPC's can under "
          "a task limit; the stop goes on without it");

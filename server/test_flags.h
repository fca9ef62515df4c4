#pragma once

// cloudlinkd's flags for tests only. They live outside main.cc so that
// `cloudlinkd --help` does not list them (--helpfull does); their defaults
// are the production behaviour.

#include <string>

#include "absl/flags/declare.h"

// The clone detection's parameters (server/link/takeover_guard.h) as
// "TAKEOVERS,WINDOW,ABRUPT_SESSION,MIN_DELAY,MAX_DELAY"; "" keeps the
// defaults.
ABSL_DECLARE_FLAG(std::string, test_takeover_guard);

// Makes the API's shutdown at the stop block for ever before it starts, as
// gRPC's does when it lost work to a thread the system refused: the stop
// must end anyway (main.cc's bounded stop).
ABSL_DECLARE_FLAG(bool, test_api_shutdown_hangs);

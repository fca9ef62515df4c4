#pragma once

// FUZZ_CHECK(condition, what): a property a fuzz target asserts beyond "does
// not crash". When it does not hold the target prints what was violated and
// aborts, which libFuzzer records as a crash (and a replay test fails).

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, what)                                           \
  do {                                                                        \
    if (!(condition)) {                                                       \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, \
                   __LINE__, #condition, std::string(what).c_str());          \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

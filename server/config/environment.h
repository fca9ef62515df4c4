#pragma once

// The process environment as a value. Everything in cloudlink::config that
// depends on environment variables takes an Environment, so tests inject one
// and nothing reads getenv() behind the caller's back.

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink::config {

using Environment = std::map<std::string, std::string>;

// A copy of this process's environment (`environ`). Entries without '=' are
// skipped; for a name given twice the first wins, as getenv() does. Not
// thread-safe against concurrent setenv()/putenv() (nothing in cloudlink
// calls those).
Environment ProcessEnvironment();

// The value of `name`, or "" when it is unset. cloudlink treats a variable
// set to "" like an unset one (container templates often set placeholders
// to "").
std::string EnvValue(const Environment& env, absl::string_view name);

}  // namespace cloudlink::config

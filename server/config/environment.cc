#include "server/config/environment.h"

#include <cstring>

extern char** environ;

namespace cloudlink::config {

Environment ProcessEnvironment() {
  Environment env;
  if (environ == nullptr) return env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const char* eq = std::strchr(*entry, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*entry, eq - *entry), std::string(eq + 1));
  }
  return env;
}

std::string EnvValue(const Environment& env, absl::string_view name) {
  auto it = env.find(std::string(name));
  return it == env.end() ? std::string() : it->second;
}

}  // namespace cloudlink::config

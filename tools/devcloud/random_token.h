#pragma once

// Unguessable secrets for the dev cloud (claim tokens, API tokens, MQTT
// passwords, challenge secrets), from the OpenSSL CSPRNG.

#include <string>

namespace cloudlink::devcloud {

// `length` characters from [A-Za-z0-9_-] (6 bits of entropy each), safe in
// URLs, shell lines and config files without quoting. Thread-safe.
std::string RandomToken(size_t length);

// `length` random bytes. Thread-safe.
std::string RandomBytes(size_t length);

}  // namespace cloudlink::devcloud

#pragma once

// Keeping the secrets given to cloudlinkctl (secret request fields: see
// IsSecretField) out of the text it prints: the daemon's errors, and the
// CLI's own, may quote a value they were given, so every secret value of the
// call is replaced by RedactSecret (server/common/redact.h) before printing.

#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace cloudlink::client {

// Appends the non-empty values of `message`'s top-level, non-repeated secret
// string fields to `out`.
void CollectSecrets(const google::protobuf::Message& message,
                    std::vector<std::string>* out);

// `text` with every occurrence of each non-empty secret replaced by
// RedactSecret(secret).
std::string Scrub(std::string text, const std::vector<std::string>& secrets);

}  // namespace cloudlink::client

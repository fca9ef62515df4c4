#pragma once

// UTF-8 validation shared by the MQTT codec (UTF-8 Encoded Strings, MQTT 5.0
// section 1.5.4) and the WebSocket decoder (text messages and close reasons,
// RFC 6455 section 8.1).

#include <cstddef>

#include "absl/strings/string_view.h"

namespace cloudlink {

// True when `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
// U+0000 is allowed. Pure function; ASCII runs are checked 8 bytes at a time.
bool IsValidUtf8(absl::string_view text);

// True when `text` is valid for an MQTT UTF-8 Encoded String: IsValidUtf8 and
// no U+0000.
bool IsValidMqttUtf8(absl::string_view text);

}  // namespace cloudlink

namespace cloudlink {

// The longest prefix of `text` of at most `max_bytes` bytes that does not
// cut a UTF-8 sequence in two (for quoting a caller's input, cut short, in
// an error message). Pure function.
absl::string_view Utf8Prefix(absl::string_view text, size_t max_bytes);

}  // namespace cloudlink

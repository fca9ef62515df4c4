#pragma once

// How responses are printed: stable JSON (--json) or readable text.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace cloudlink::client {

// JSON with a fixed shape, for scripts: proto field names (snake_case), keys
// in field declaration order, and every field present: false, 0, "" and []
// included, unset message fields as null. Otherwise the proto3 JSON mapping
// (64-bit integers as strings, enums by name, Timestamps as RFC 3339,
// Durations as "2.500s"). `pretty`: indented by 2 with a trailing newline;
// otherwise one line (with a trailing newline). Thread-safe.
absl::StatusOr<std::string> ToStableJson(
    const google::protobuf::Message& message, bool pretty);

// "Key: value" lines, one per field in declaration order, keys being proto
// field names: nested messages as a "key:" line followed by their fields
// indented by two more spaces; repeated scalars as "a, b"; repeated messages
// as "key[i]:" blocks; bools true/false; enums by name; bytes in base64;
// Timestamps as RFC 3339 UTC ("2026-01-02T03:04:05.5Z"); Durations as
// "2.5s" / "1m30s". An absent value (an empty string, bytes, list or map, an
// unset message field) is "null", as in `aclk-state` (aclk_state.h); false
// and 0 are values and print as such. Every line ends with "\n".
std::string ToText(const google::protobuf::Message& message);

// RFC 3339 in UTC, fractional seconds only when non-zero.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);
// absl::FormatDuration form: "2.5s", "1m30s", "0".
std::string FormatDuration(const google::protobuf::Duration& duration);

}  // namespace cloudlink::client

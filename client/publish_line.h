#pragma once

// The common shape of a `cloudlinkctl publish` input line, parsed without
// protobuf's general JSON parser (which costs about 25 µs for a 1 KiB
// payload and bounds how fast the CLI can publish from a pipe):
//
//   {"id": "7", "topic": "alarm-log", "payload": "aGk=",
//    "level": "DELIVERY_LEVEL_AT_LEAST_ONCE", "waitWhenFull": true}
//
// A flat object whose keys are among id, topic, payload, level and
// waitWhenFull (or wait_when_full), each at most once, in any order; id a
// number or a string of decimal digits that fits uint64; topic a string
// in ASCII without escapes; payload standard padded base64; level an enum
// name or number; waitWhenFull true or false; whitespace between tokens.
//
// Anything else (escapes, other keys, `batch`, nulls, web-safe or unpadded
// base64, bad values) is not this shape: the caller then parses the line
// with protobuf's parser, which accepts or refuses it as always. On this
// shape the result equals that parser's (tests/client/publish_line_test).

#include "absl/strings/string_view.h"
#include "cloudlink/v1/cloudlink.pb.h"

namespace cloudlink::client {

// True when `line` has the shape above; `out` then holds its fields.
// False otherwise, with `out` in an unspecified state.
bool ParseSimplePublishLine(absl::string_view line,
                            cloudlink::v1::PublishRequest* out);

}  // namespace cloudlink::client

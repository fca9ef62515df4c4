#pragma once

// One record of a spool segment file (spool.h describes the files):
//
//   u32 body length | u32 CRC32C of the body | body
//
// with body = u8 type | u64 sequence | (data only: u16 topic length | topic |
// payload), all little-endian. A data record carries one message; an ack
// record says "sequence was acknowledged by the broker". Pure functions.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::publish {

enum class SpoolRecordType : uint8_t { kData = 1, kAck = 2 };

// Length and CRC.
inline constexpr size_t kSpoolRecordHeaderBytes = 8;
// The largest body the spool writes (and so the largest message it takes).
inline constexpr size_t kSpoolMaxBodyBytes = size_t{64} << 20;

// Appends a data record for `sequence` (its topic at most 65535 bytes).
void AppendSpoolDataRecord(uint64_t sequence, absl::string_view topic,
                           absl::string_view payload, std::string* out);

// Appends an ack record for `sequence`.
void AppendSpoolAckRecord(uint64_t sequence, std::string* out);

// The size of a data record (header included) for a topic and payload of
// these sizes.
size_t SpoolDataRecordBytes(size_t topic_bytes, size_t payload_bytes);

// A record read back; topic and payload point into the bytes read.
struct SpoolRecord {
  SpoolRecordType type = SpoolRecordType::kData;
  uint64_t sequence = 0;  // > 0 for a data record
  absl::string_view topic;
  absl::string_view payload;
  size_t size = 0;  // header and body
};

// The record at the start of `bytes` (which may go on with more records).
// DATA_LOSS otherwise, with a sentence saying what is wrong, as the spool
// logs it: the header is cut short or the body runs past the end of `bytes`
// ("... (torn write)"), the CRC does not match, or the body does not parse
// (unknown type, wrong size, sequence 0 in a data record: "... (corrupt)").
absl::StatusOr<SpoolRecord> ReadSpoolRecord(absl::string_view bytes);

}  // namespace cloudlink::publish

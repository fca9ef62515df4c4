#pragma once

// CRC-32C (Castagnoli, the polynomial of iSCSI, ext4 and LevelDB's log),
// table-driven. Thread-safe (the table is built at compile time).

#include <cstdint>

#include "absl/strings/string_view.h"

namespace cloudlink::publish {

// The CRC-32C of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);

}  // namespace cloudlink::publish

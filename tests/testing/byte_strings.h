#pragma once

// Byte strings for tests of wire formats: literals from values, and hex dumps
// for readable failures.

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace cloudlink::testing {

// Bytes from a list of values 0..255.
std::string Bytes(std::initializer_list<int> values);

// "0A 1F ..." for reading test failures.
std::string Hex(absl::string_view bytes);

}  // namespace cloudlink::testing

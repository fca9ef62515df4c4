#pragma once

// The command line of our programs (cloudlinkd, the dev cloud), parsed by
// Abseil's flags library: a program defines its flags with ABSL_FLAG in the
// file that holds main() and calls ParseCommandLineOrExit first thing.
//
// Flags are documented with dashes (--config-dir); Abseil names them with
// underscores (config_dir). Both spellings are accepted, and --help and the
// error messages show the dashed one. "--name=value" and "--name value" both
// work. Abseil's own flags come along (--flagfile, --fromenv, --helpfull).

#include <string>

#include "absl/strings/string_view.h"
#include "server/common/log.h"

namespace cloudlink {

struct CommandLine {
  // The program's name in messages and in --version ("cloudlinkd").
  std::string program;
  // The file that defines the program's flags, as the build names it
  // ("server/main.cc"): --help lists its flags, --helpfull every flag.
  std::string flags_file;
  // What the program does and how to call it; heads the --help text.
  std::string usage;
};

// Parses argv into the program's Abseil flags, or exits:
//   --help (-h, --helpshort, --help=SUBSTRING), --helpfull: the usage and
//     the flags on stdout, exit 0;
//   --version: "PROGRAM VERSION" (server/common/version.h) on stdout, exit 0;
//   an unknown flag, a missing or malformed value, or a positional argument:
//     what is wrong, naming the flag and what it takes, on stderr, exit 2.
// Call once, from main() before any thread starts.
void ParseCommandLineOrExit(int argc, char** argv,
                            const CommandLine& command_line);

// For values the program checks itself after parsing (ranges, required
// flags): prints "PROGRAM: --FLAG PROBLEM", the flag's help, and a pointer to
// --help on stderr, and exits 2. `flag` is the dashed or the Abseil name,
// without "--".
[[noreturn]] void ExitWithFlagError(absl::string_view flag,
                                    absl::string_view problem);

// Abseil flag support for LogLevel: "debug", "info", "warning" or "error".
bool AbslParseFlag(absl::string_view text, LogLevel* level, std::string* error);
std::string AbslUnparseFlag(LogLevel level);

}  // namespace cloudlink

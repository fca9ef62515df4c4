#include "server/common/command_line.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/parse.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "server/common/version.h"

namespace cloudlink {
namespace {

// Set once by ParseCommandLineOrExit, before any thread starts; read by the
// usage error hook, which gets no context.
const std::string* program_name = nullptr;

std::string Program() {
  return program_name != nullptr ? *program_name : "program";
}

// Abseil's usage flags, which its parser handles outside the flag registry.
constexpr const char* kUsageFlags[] = {
    "help",   "helpfull",  "helpshort",       "helppackage",
    "helpon", "helpmatch", "only_check_args", "version"};

std::string Underscored(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"-", "_"}});
}

std::string Dashed(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"_", "-"}});
}

bool IsKnownFlag(absl::string_view name) {
  for (const char* usage : kUsageFlags) {
    if (name == usage) return true;
  }
  if (absl::FindCommandLineFlag(name) != nullptr) return true;
  // --noNAME sets a bool flag NAME to false.
  return absl::ConsumePrefix(&name, "no") &&
         absl::FindCommandLineFlag(name) != nullptr;
}

// Abseil's spelling of the arguments: "--config-dir=x" becomes
// "--config_dir=x" where that names a flag (an unknown name stays as typed,
// so that the error shows it so), "-h" becomes "--help". Nothing after "--"
// is touched.
std::vector<std::string> AbseilSpelling(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--") break;
    if (arg == "-h") {
      arg = "--help";
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') continue;
    const size_t dashes = arg[1] == '-' ? 2 : 1;
    const size_t end = std::min(arg.find('='), arg.size());
    const std::string name =
        Underscored(absl::string_view(arg).substr(dashes, end - dashes));
    if (IsKnownFlag(name)) arg.replace(dashes, end - dashes, name);
  }
  return args;
}

// `text` with every "--flag_name" written "--flag-name".
std::string DashedFlagNames(absl::string_view text) {
  std::string out(text);
  size_t at = out.find("--");
  while (at != std::string::npos) {
    size_t i = at + 2;
    while (i < out.size() && (absl::ascii_isalnum(out[i]) || out[i] == '_')) {
      if (out[i] == '_') out[i] = '-';
      ++i;
    }
    at = out.find("--", i);
  }
  return out;
}

// Abseil's message ("Illegal value 'x' specified for flag 'queue_bytes'...")
// with the flag written as on the command line ("flag --queue-bytes"); the
// flag's name goes to `flag`.
std::string WithDashedFlag(absl::string_view message, std::string* flag) {
  constexpr absl::string_view kQuoted = "flag '";
  const size_t start = message.find(kQuoted);
  if (start == absl::string_view::npos) return std::string(message);
  const size_t name_start = start + kQuoted.size();
  const size_t name_end = message.find('\'', name_start);
  if (name_end == absl::string_view::npos) return std::string(message);
  *flag = std::string(message.substr(name_start, name_end - name_start));
  return absl::StrCat(message.substr(0, start), "flag --", Dashed(*flag),
                      message.substr(name_end + 1));
}

[[noreturn]] void ExitWithUsageError(absl::string_view problem,
                                     absl::string_view flag) {
  std::string text = absl::StrCat(Program(), ": ", problem, "\n");
  const absl::CommandLineFlag* known =
      flag.empty() ? nullptr : absl::FindCommandLineFlag(Underscored(flag));
  if (known != nullptr) {
    const std::string default_value = known->DefaultValue();
    absl::StrAppend(&text, "  --", Dashed(known->Name()), ": ",
                    DashedFlagNames(known->Help()),
                    default_value.empty()
                        ? std::string(" (no default)")
                        : absl::StrCat(" (default ", default_value, ")"),
                    "\n");
  }
  absl::StrAppend(&text, "Run '", Program(), " --help' for all flags.\n");
  std::fputs(text.c_str(), stderr);
  std::exit(2);
}

}  // namespace

void ParseCommandLineOrExit(int argc, char** argv,
                            const CommandLine& command_line) {
  program_name = new std::string(command_line.program);
  absl::FlagsUsageConfig config;
  const std::string flags_file = command_line.flags_file;
  config.contains_helpshort_flags = [flags_file](absl::string_view file) {
    return absl::EndsWith(file, flags_file);
  };
  config.contains_help_flags = config.contains_helpshort_flags;
  config.version_string = [] {
    return absl::StrCat(Program(), " ", kVersion, "\n");
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(command_line.usage);

  std::vector<std::string> args = AbseilSpelling(argc, argv);
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  // The internal entry point, not absl::ParseCommandLine: that one exits 1
  // after --help in this Abseil version (20220623), and our help exits 0.
  // Errors end in the usage error hook below (exit 2).
  const std::vector<char*> positional =
      absl::flags_internal::ParseCommandLineImpl(
          static_cast<int>(arg_pointers.size()), arg_pointers.data(),
          absl::flags_internal::ArgvListAction::kRemoveParsedArgs,
          absl::flags_internal::UsageFlagsAction::kIgnoreUsage,
          absl::flags_internal::OnUndefinedFlag::kAbortIfUndefined);
  std::ostringstream usage;
  if (absl::flags_internal::HandleUsageFlags(
          usage, absl::ProgramUsageMessage()) != -1) {
    std::fputs(DashedFlagNames(usage.str()).c_str(), stdout);
    std::exit(0);
  }
  if (positional.size() > 1) {
    ExitWithUsageError(
        absl::StrCat("unexpected argument '", positional[1],
                     "' (flags start with --; values go as --flag=value)"),
        "");
  }
}

void ExitWithFlagError(absl::string_view flag, absl::string_view problem) {
  ExitWithUsageError(absl::StrCat("--", Dashed(flag), " ", problem), flag);
}

bool AbslParseFlag(absl::string_view text, LogLevel* level,
                   std::string* error) {
  if (ParseLogLevel(text, level)) return true;
  *error = "must be debug, info, warning or error";
  return false;
}

std::string AbslUnparseFlag(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace cloudlink

// Abseil calls this after printing "ERROR: <message>" for a fatal usage error
// (an unknown flag, a missing or malformed value), before it would exit 1.
extern "C" void ABSL_INTERNAL_C_SYMBOL(AbslInternalReportFatalUsageError)(
    absl::string_view message) {
  std::string flag;
  const std::string problem = cloudlink::WithDashedFlag(message, &flag);
  cloudlink::ExitWithUsageError(problem, flag);
}

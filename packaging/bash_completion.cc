#include "packaging/bash_completion.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"

namespace cloudlink::packaging {
namespace {

using google::protobuf::FieldDescriptor;

// The CLI's global flags (client/global_flags.h): those that take a file,
// those that take another value, and those that take none.
constexpr const char* kGlobalFileFlags[] = {"--socket", "--tls-cert",
                                            "--tls-key", "--tls-ca"};
constexpr const char* kGlobalValueFlags[] = {"--timeout", "--target"};
constexpr const char* kGlobalPlainFlags[] = {"--json", "--help", "--version"};

bool TakesValue(const client::FlagSpec& flag) {
  return flag.field->cpp_type() != FieldDescriptor::CPPTYPE_BOOL ||
         flag.field->is_repeated();
}

}  // namespace

std::string BashCompletionScript(
    const std::vector<client::CommandSpec>& commands) {
  std::vector<std::string> command_names = {"aclk-state"};
  for (const client::CommandSpec& command : commands) {
    command_names.push_back(command.name);
  }
  std::vector<std::string> global_flags;
  std::vector<std::string> global_value_flags;
  for (const char* flag : kGlobalFileFlags) {
    global_flags.push_back(flag);
    global_value_flags.push_back(flag);
  }
  for (const char* flag : kGlobalValueFlags) {
    global_flags.push_back(flag);
    global_value_flags.push_back(flag);
  }
  for (const char* flag : kGlobalPlainFlags) global_flags.push_back(flag);

  std::string out = absl::StrCat(
      "# bash completion for cloudlinkctl. Generated from the CloudLink "
      "service\n"
      "# descriptor by //packaging:bash_completion_gen; do not edit.\n"
      "_cloudlinkctl() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
      "  local prev=\"\"\n"
      "  ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
      "  local globals=\"",
      absl::StrJoin(global_flags, " "),
      "\"\n"
      "  COMPREPLY=()\n"
      "  case \"$prev\" in\n"
      "    ",
      absl::StrJoin(kGlobalFileFlags, "|"),
      ")\n"
      "      COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n"
      "    ",
      absl::StrJoin(kGlobalValueFlags, "|"),
      ")\n"
      "      return 0 ;;\n"
      "  esac\n"
      "  # The command: the first word that is neither a flag nor a global\n"
      "  # flag's value.\n"
      "  local command=\"\" i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case \"${COMP_WORDS[i]}\" in\n"
      "      ",
      absl::StrJoin(global_value_flags, "|"),
      ") ((i++)) ;;\n"
      "      -*) ;;\n"
      "      *) command=\"${COMP_WORDS[i]}\"; break ;;\n"
      "    esac\n"
      "  done\n"
      "  local flags=\"\"\n"
      "  case \"$command\" in\n"
      "    \"\")\n"
      "      COMPREPLY=($(compgen -W \"",
      absl::StrJoin(command_names, " "),
      " $globals\" -- \"$cur\"))\n"
      "      return 0 ;;\n"
      "    aclk-state)\n"
      "      flags=\"json\" ;;\n");

  for (const client::CommandSpec& command : commands) {
    std::vector<std::string> flags;
    std::vector<std::string> value_cases;
    std::vector<std::string> plain_values;
    for (const client::FlagSpec& flag : command.flags) {
      const std::string name = absl::StrCat("--", flag.name);
      flags.push_back(name);
      if (!TakesValue(flag)) continue;
      if (flag.field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        std::vector<std::string> values;
        for (int i = 0; i < flag.field->enum_type()->value_count(); ++i) {
          values.push_back(flag.field->enum_type()->value(i)->name());
        }
        value_cases.push_back(absl::StrCat(
            "        ", name, ") COMPREPLY=($(compgen -W \"",
            absl::StrJoin(values, " "), "\" -- \"$cur\")); return 0 ;;\n"));
      } else {
        plain_values.push_back(name);
      }
    }
    absl::StrAppend(&out, "    ", command.name, ")\n");
    if (!value_cases.empty() || !plain_values.empty()) {
      absl::StrAppend(&out, "      case \"$prev\" in\n");
      for (const std::string& value_case : value_cases) {
        absl::StrAppend(&out, value_case);
      }
      if (!plain_values.empty()) {
        absl::StrAppend(&out, "        ", absl::StrJoin(plain_values, "|"),
                        ") return 0 ;;\n");
      }
      absl::StrAppend(&out, "      esac\n");
    }
    absl::StrAppend(&out, "      flags=\"", absl::StrJoin(flags, " "),
                    "\" ;;\n");
  }
  absl::StrAppend(
      &out,
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$flags $globals\" -- \"$cur\"))\n"
      "  return 0\n"
      "}\n"
      "complete -F _cloudlinkctl cloudlinkctl\n");
  return out;
}

}  // namespace cloudlink::packaging

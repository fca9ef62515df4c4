#include "client/descriptor_commands.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace cloudlink::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::string ValueHint(const FieldDescriptor* field) {
  if (field->is_map()) return "JSON";
  std::string hint;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true|false";
    case FieldDescriptor::CPPTYPE_ENUM: {
      std::vector<std::string> names;
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        names.push_back(field->enum_type()->value(i)->name());
      }
      hint = absl::StrJoin(names, "|");
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const std::string& type = field->message_type()->full_name();
      if (type == "google.protobuf.Duration") {
        hint = "DURATION";
      } else if (type == "google.protobuf.Timestamp") {
        hint = "TIME";
      } else {
        hint = "JSON";
      }
      break;
    }
    default:
      hint = absl::AsciiStrToUpper(field->type_name());
  }
  if (field->is_repeated()) hint = absl::StrCat(hint, "[,", hint, "...]");
  return hint;
}

// Indents every non-empty line of `text` by `indent`.
std::string Indent(absl::string_view text, absl::string_view indent) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    lines.push_back(line.empty() ? "" : absl::StrCat(indent, line));
  }
  return absl::StrJoin(lines, "\n");
}

std::string FlagUsage(const FlagSpec& flag) {
  if (flag.field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL &&
      !flag.field->is_repeated()) {
    return absl::StrCat("--", flag.name, "[=true|false]");
  }
  return absl::StrCat("--", flag.name, " ", flag.value_hint);
}

std::string ValueNote(const FieldDescriptor* field) {
  if (field->is_map()) {
    return "Value: a JSON object, e.g. '{\"key\":\"value\"}'.";
  }
  std::string note;
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    const std::string& type = field->message_type()->full_name();
    if (type == "google.protobuf.Duration") {
      note = "Value: a duration such as 2.5s.";
    } else if (type == "google.protobuf.Timestamp") {
      note = "Value: an RFC 3339 time such as 2026-01-02T03:04:05Z.";
    } else {
      note = absl::StrCat("Value: a ", field->message_type()->name(),
                          " as a JSON object.");
    }
  } else if (field->type() == FieldDescriptor::TYPE_BYTES) {
    note = "Value: the bytes of the argument as given.";
  }
  if (field->is_repeated()) {
    absl::StrAppend(&note, note.empty() ? "" : " ",
                    field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
                        ? "Repeat the flag to add items."
                        : "Comma-separated; repeat the flag to add items.");
  }
  return note;
}

}  // namespace

std::string KebabCase(absl::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '_') {
      if (!out.empty() && out.back() != '-') out.push_back('-');
      continue;
    }
    if (std::isupper(static_cast<unsigned char>(c)) && i > 0) {
      const char prev = name[i - 1];
      const bool next_lower =
          i + 1 < name.size() &&
          std::islower(static_cast<unsigned char>(name[i + 1]));
      const bool prev_lower_or_digit =
          std::islower(static_cast<unsigned char>(prev)) ||
          std::isdigit(static_cast<unsigned char>(prev));
      const bool prev_upper = std::isupper(static_cast<unsigned char>(prev));
      if ((prev_lower_or_digit || (prev_upper && next_lower)) && !out.empty() &&
          out.back() != '-') {
        out.push_back('-');
      }
    }
    out.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool IsSecretField(const FieldDescriptor* field) {
  const std::string name = absl::AsciiStrToLower(field->name());
  for (absl::string_view word : {"token", "password", "secret"}) {
    if (name == word || absl::EndsWith(name, absl::StrCat("_", word))) {
      return true;
    }
  }
  return false;
}

std::string SecretEnvVar(const FlagSpec& flag) {
  return absl::StrCat("CLOUDLINK_", absl::AsciiStrToUpper(flag.field->name()));
}

std::vector<CommandSpec> CommandsFromService(
    const google::protobuf::ServiceDescriptor* service,
    const ProtoComments& comments) {
  std::vector<CommandSpec> commands;
  for (int m = 0; m < service->method_count(); ++m) {
    const google::protobuf::MethodDescriptor* method = service->method(m);
    CommandSpec command;
    command.name = KebabCase(method->name());
    command.method = method;
    command.help = comments.Leading(method);
    const Descriptor* input = method->input_type();
    for (int f = 0; f < input->field_count(); ++f) {
      const FieldDescriptor* field = input->field(f);
      FlagSpec flag;
      flag.name = KebabCase(field->name());
      flag.field = field;
      flag.value_hint = ValueHint(field);
      flag.secret = IsSecretField(field);
      flag.help = comments.Leading(field);
      flag.required = absl::StrContains(flag.help, "Required.");
      command.flags.push_back(std::move(flag));
    }
    commands.push_back(std::move(command));
  }
  return commands;
}

const CommandSpec* FindCommand(const std::vector<CommandSpec>& commands,
                               absl::string_view name) {
  for (const CommandSpec& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

const FlagSpec* FindFlag(const CommandSpec& command, absl::string_view name) {
  const std::string kebab = absl::StrReplaceAll(name, {{"_", "-"}});
  for (const FlagSpec& flag : command.flags) {
    if (flag.name == kebab) return &flag;
  }
  return nullptr;
}

std::string CommandSummary(const CommandSpec& command) {
  const std::string text = absl::StrReplaceAll(command.help, {{"\n", " "}});
  const size_t end = text.find(". ");
  if (end != std::string::npos) return text.substr(0, end + 1);
  return text;
}

std::string CommandHelp(const CommandSpec& command) {
  const google::protobuf::MethodDescriptor* method = command.method;
  std::string out =
      absl::StrCat("Usage: cloudlinkctl ", command.name,
                   command.flags.empty() ? "" : " [flags]", " [--json]\n\n");
  if (!command.help.empty()) absl::StrAppend(&out, command.help, "\n\n");
  absl::StrAppend(&out, "RPC: ", method->full_name(), "(",
                  method->client_streaming() ? "stream " : "",
                  method->input_type()->full_name(), ") returns (",
                  method->server_streaming() ? "stream " : "",
                  method->output_type()->full_name(), ")\n");
  if (!command.flags.empty()) {
    absl::StrAppend(&out, "\nFlags (fields of ", method->input_type()->name(),
                    "):\n");
    for (const FlagSpec& flag : command.flags) {
      absl::StrAppend(&out, "  ", FlagUsage(flag), "\n");
      std::string text = flag.help;
      const std::string note = ValueNote(flag.field);
      if (!note.empty()) absl::StrAppend(&text, text.empty() ? "" : "\n", note);
      if (flag.secret) {
        absl::StrAppend(&text, text.empty() ? "" : "\n", "Secret: also --",
                        flag.name, "-file PATH, --", flag.name,
                        " - (first line of\nstandard input) or $",
                        SecretEnvVar(flag),
                        ". A plain argument is visible\nto local users in "
                        "/proc/PID/cmdline; cloudlinkctl warns about it.");
      }
      if (!text.empty()) absl::StrAppend(&out, Indent(text, "      "), "\n");
    }
  }
  if (method->client_streaming()) {
    absl::StrAppend(
        &out,
        "\nRequests: with flags, one request built from them; without, one "
        "JSON\nrequest per line read from standard input until its end.\n");
  }
  if (method->server_streaming()) {
    absl::StrAppend(
        &out,
        "\nResponses: each is printed as it arrives (--json: one JSON object "
        "per\nline) until the daemon ends the stream or you press Ctrl-C. No "
        "deadline\nunless --timeout is given.\n");
  }
  absl::StrAppend(&out,
                  "\nGlobal flags: --socket PATH, --json, --timeout SECONDS "
                  "(see cloudlinkctl --help).\n");
  return out;
}

}  // namespace cloudlink::client

#pragma once

// Command-line flags → a request message, driven by the request's
// descriptor (see descriptor_commands.h for the flag names):
//
//   --name value, --name=value   strings, bytes (verbatim), numbers (decimal,
//                                range-checked), enums (value name, any case,
//                                with or without the enum's name as prefix)
//   --flag, --flag=false         bools (also "--flag true|false"; yes/no,
//                                on/off, 1/0 after "=")
//   --rooms a,b --rooms c        repeated scalars: comma-separated items,
//                                trimmed, empties dropped; repeats append
//   --since 2026-01-02T03:04:05Z messages: a JSON object, or the JSON
//   --after 2.5s                 string form of well-known types
//
// The word after a flag that takes a value is its value, even when it starts
// with "--" (a random token may), unless it is a flag of the command (or the
// -file form of one) or a global flag (kGlobalFlagNames): then the value is
// missing. "--name=value" always takes the value as written.
//
// Secret fields (IsSecretField) also take their value from elsewhere, so that
// it stays out of /proc/PID/cmdline:
//
//   --token-file PATH            the file's content (the parser records it;
//   --token -                    the caller reads it: secret_flags.h); "-":
//                                the first line of standard input
//
// and each secret flag may be given once, in one form.
//
// Errors are INVALID_ARGUMENT with a reason (UNKNOWN_FLAG, MISSING_FLAG_VALUE,
// BAD_FLAG_VALUE, CONFLICTING_FLAGS, UNEXPECTED_ARGUMENT) and name the flag;
// they never contain the value of a secret field.

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/descriptor_commands.h"
#include "client/secret_flags.h"
#include "google/protobuf/message.h"

namespace cloudlink::client {

// The flags every command takes, without "--": exactly those ApplyGlobalFlag
// (global_flags.h) applies, which global_flags_test checks (global_flags
// depends on this library, so the list lives here).
inline constexpr const char* kGlobalFlagNames[] = {
    "socket", "timeout", "target", "tls-cert", "tls-key",
    "tls-ca", "json",    "help",   "version"};

// Parses the flags of one command invocation into a request. Not
// thread-safe; one parser per invocation.
class RequestFlagParser {
 public:
  // `command` and `request` must outlive the parser; `request` must be of the
  // command's input type.
  RequestFlagParser(const CommandSpec* command,
                    google::protobuf::Message* request);

  // Applies the flag word args[*index] (which starts with "--") and, when the
  // flag takes its value from the next word, that word; advances *index past
  // the words used. The request keeps the fields set so far on error.
  absl::Status Apply(const std::vector<std::string>& args, size_t* index);

  // Values given for secret fields so far, for scrubbing them from any text
  // that is printed.
  const std::vector<std::string>& secret_values() const {
    return secret_values_;
  }
  // How each secret flag given so far was given, in order. Those in a file
  // or on standard input are not set yet: the caller reads them and calls
  // SetSecret.
  const std::vector<SecretInput>& secret_inputs() const {
    return secret_inputs_;
  }
  // Sets the secret field of `flag` to `value` (read by the caller from a
  // file, standard input or the environment) and records it for scrubbing.
  // Counts as the flag being given.
  absl::Status SetSecret(const FlagSpec& flag, const std::string& value);
  // Whether a flag set this field.
  bool IsSet(const google::protobuf::FieldDescriptor* field) const {
    return set_fields_.count(field) > 0;
  }
  // Whether any flag was applied.
  bool any_flag() const { return any_flag_; }

 private:
  absl::Status SetValue(const FlagSpec& flag, absl::string_view value);

  const CommandSpec* command_;
  google::protobuf::Message* request_;
  std::vector<std::string> secret_values_;
  std::vector<SecretInput> secret_inputs_;
  std::set<const google::protobuf::FieldDescriptor*> set_fields_;
  bool any_flag_ = false;
};

// Parses all of `args` (flags only; any other word is UNEXPECTED_ARGUMENT)
// into `request`.
absl::Status ParseRequestFlags(const CommandSpec& command,
                               const std::vector<std::string>& args,
                               google::protobuf::Message* request);

// Parses a bool flag value: true/false, yes/no, on/off, 1/0, any case.
bool ParseBoolValue(absl::string_view text, bool* value);

}  // namespace cloudlink::client

#pragma once

// Sub-commands and their flags, derived from a gRPC service descriptor so that
// a new RPC or request field needs no CLI code:
//
//   rpc GetState(...)            → command "get-state"
//   ClaimRequest.token (string)  → flag "--token STRING"
//   repeated string rooms        → "--rooms STRING[,STRING...]" (repeatable)
//   bool insecure                → "--insecure[=true|false]"
//
// and their --help text, built from the proto comments.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/proto_comments.h"
#include "google/protobuf/descriptor.h"

namespace cloudlink::client {

// One flag: one field of the request message.
struct FlagSpec {
  std::string name;  // kebab-case field name, without "--" ("wait-seconds")
  const google::protobuf::FieldDescriptor* field = nullptr;
  // What the value looks like in help: "STRING", "UINT32", "true|false",
  // "A|B" for enums, "DURATION", "TIME", "JSON"; repeated fields
  // "X[,X...]".
  std::string value_hint;
  bool secret = false;  // the value is never printed (see IsSecretField)
  // The field's comment says "Required.": without it the command is a usage
  // error (MISSING_FLAG) before anything is sent.
  bool required = false;
  std::string help;  // the field's leading comment
};

// One sub-command: one RPC of the service.
struct CommandSpec {
  std::string name;  // kebab-case method name ("reload-claiming-state")
  const google::protobuf::MethodDescriptor* method = nullptr;
  std::string help;             // the method's leading comment
  std::vector<FlagSpec> flags;  // in field declaration order
};

// "GetState" → "get-state", "GetACLKState" → "get-aclk-state",
// "wait_seconds" → "wait-seconds".
std::string KebabCase(absl::string_view name);

// True for fields whose values are secrets: "token", "password", "secret",
// or names ending in "_token", "_password", "_secret" ("api_token").
bool IsSecretField(const google::protobuf::FieldDescriptor* field);

// The environment variable a secret flag's value may come from when the flag
// is not given: "CLOUDLINK_" and the field name in upper case ("token" →
// CLOUDLINK_TOKEN, "api_token" → CLOUDLINK_API_TOKEN).
std::string SecretEnvVar(const FlagSpec& flag);

// One command per method of `service`, in declaration order, with one flag
// per field of the method's input type. `comments` supplies help text (may be
// empty of comments).
std::vector<CommandSpec> CommandsFromService(
    const google::protobuf::ServiceDescriptor* service,
    const ProtoComments& comments);

// The command with this name, or nullptr.
const CommandSpec* FindCommand(const std::vector<CommandSpec>& commands,
                               absl::string_view name);

// The flag with this name (kebab-case; snake_case is accepted too), or
// nullptr.
const FlagSpec* FindFlag(const CommandSpec& command, absl::string_view name);

// The first sentence of the command's comment, for command lists.
std::string CommandSummary(const CommandSpec& command);

// The full `cloudlinkctl <command> --help` text: usage, the RPC's comment,
// each flag with its value hint and comment (secret flags also with their
// safe forms: secret_flags.h), how requests and responses are
// streamed, and the response type. Ends with a newline.
std::string CommandHelp(const CommandSpec& command);

}  // namespace cloudlink::client

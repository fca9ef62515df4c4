#include "client/flag_parser.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status UsageError(const Reason& reason, absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason, sentence);
}

// The value as it may appear in an error: quoted, or not at all for secrets.
std::string Shown(const FlagSpec& flag, absl::string_view value) {
  if (flag.secret) return "the given value";
  return absl::StrCat("\"", value, "\"");
}

absl::Status BadValue(const FlagSpec& flag, absl::string_view value,
                      absl::string_view what) {
  return UsageError(reason::kBadFlagValue,
                    absl::StrCat("--", flag.name, ": ", Shown(flag, value),
                                 " is not ", what));
}

std::string JsonQuote(absl::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// "DeliveryLevel" → "DELIVERY_LEVEL_", the conventional value prefix.
std::string EnumValuePrefix(const google::protobuf::EnumDescriptor* type) {
  return absl::StrCat(absl::AsciiStrToUpper(absl::StrReplaceAll(
                          KebabCase(type->name()), {{"-", "_"}})),
                      "_");
}

const EnumValueDescriptor* FindEnumValue(
    const google::protobuf::EnumDescriptor* type, absl::string_view text) {
  const std::string wanted =
      absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{"-", "_"}}));
  const std::string prefix = EnumValuePrefix(type);
  for (int i = 0; i < type->value_count(); ++i) {
    const EnumValueDescriptor* value = type->value(i);
    if (value->name() == wanted) return value;
    if (absl::StartsWith(value->name(), prefix) &&
        value->name().substr(prefix.size()) == wanted) {
      return value;
    }
  }
  return nullptr;
}

// Parses one scalar item and sets (or, for repeated fields, adds) it.
absl::Status SetScalar(const FlagSpec& flag, absl::string_view text,
                       Message* request) {
  const FieldDescriptor* field = flag.field;
  const Reflection* reflection = request->GetReflection();
  const bool add = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      if (add) {
        reflection->AddString(request, field, std::string(text));
      } else {
        reflection->SetString(request, field, std::string(text));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool value = false;
      if (!ParseBoolValue(text, &value)) {
        return BadValue(flag, text, "true or false");
      }
      add ? reflection->AddBool(request, field, value)
          : reflection->SetBool(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) {
        return BadValue(flag, text, "a 32-bit integer");
      }
      add ? reflection->AddInt32(request, field, value)
          : reflection->SetInt32(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) {
        return BadValue(flag, text, "a 64-bit integer");
      }
      add ? reflection->AddInt64(request, field, value)
          : reflection->SetInt64(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t value = 0;
      if (absl::StartsWith(text, "-") || !absl::SimpleAtoi(text, &value)) {
        return BadValue(flag, text, "an unsigned 32-bit integer");
      }
      add ? reflection->AddUInt32(request, field, value)
          : reflection->SetUInt32(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t value = 0;
      if (absl::StartsWith(text, "-") || !absl::SimpleAtoi(text, &value)) {
        return BadValue(flag, text, "an unsigned 64-bit integer");
      }
      add ? reflection->AddUInt64(request, field, value)
          : reflection->SetUInt64(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float value = 0;
      if (!absl::SimpleAtof(text, &value)) {
        return BadValue(flag, text, "a number");
      }
      add ? reflection->AddFloat(request, field, value)
          : reflection->SetFloat(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double value = 0;
      if (!absl::SimpleAtod(text, &value)) {
        return BadValue(flag, text, "a number");
      }
      add ? reflection->AddDouble(request, field, value)
          : reflection->SetDouble(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* value =
          FindEnumValue(field->enum_type(), text);
      if (value == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < field->enum_type()->value_count(); ++i) {
          names.push_back(field->enum_type()->value(i)->name());
        }
        return BadValue(flag, text,
                        absl::StrCat("one of ", absl::StrJoin(names, ", ")));
      }
      add ? reflection->AddEnum(request, field, value)
          : reflection->SetEnum(request, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return UsageError(reason::kBadFlagValue,
                    absl::StrCat("--", flag.name, " cannot be set here"));
}

// Message and map fields: the value is JSON (or, when it is not an object or
// array, the JSON string form of a well-known type such as "2.5s"), parsed
// as {"field": value} into a scratch request and merged in.
absl::Status MergeJsonValue(const FlagSpec& flag, absl::string_view value,
                            Message* request) {
  const FieldDescriptor* field = flag.field;
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  std::string json_value =
      (absl::StartsWith(trimmed, "{") || absl::StartsWith(trimmed, "["))
          ? std::string(trimmed)
          : JsonQuote(value);
  if (field->is_repeated() && !field->is_map() &&
      !absl::StartsWith(json_value, "[")) {
    json_value = absl::StrCat("[", json_value, "]");
  }
  const std::string document =
      absl::StrCat("{", JsonQuote(field->name()), ":", json_value, "}");
  std::unique_ptr<Message> scratch(request->New());
  const auto status =
      google::protobuf::util::JsonStringToMessage(document, scratch.get());
  if (!status.ok()) {
    const auto message = status.message();
    return UsageError(
        reason::kBadFlagValue,
        absl::StrCat("--", flag.name, ": ",
                     flag.secret
                         ? "the given value does not parse"
                         : std::string(message.data(), message.size())));
  }
  request->MergeFrom(*scratch);
  return absl::OkStatus();
}

bool IsBoolLiteral(absl::string_view word) {
  return absl::EqualsIgnoreCase(word, "true") ||
         absl::EqualsIgnoreCase(word, "false");
}

}  // namespace

bool ParseBoolValue(absl::string_view text, bool* value) {
  for (absl::string_view yes : {"true", "yes", "on", "1"}) {
    if (absl::EqualsIgnoreCase(text, yes)) {
      *value = true;
      return true;
    }
  }
  for (absl::string_view no : {"false", "no", "off", "0"}) {
    if (absl::EqualsIgnoreCase(text, no)) {
      *value = false;
      return true;
    }
  }
  return false;
}

RequestFlagParser::RequestFlagParser(const CommandSpec* command,
                                     Message* request)
    : command_(command), request_(request) {}

// Whether `word` names a flag of `command` (or the -file form of one of its
// secret flags) or a global flag, so that it is not taken as the value of
// the flag before it.
bool IsFlagWord(const CommandSpec& command, absl::string_view word) {
  if (word == "--") return true;
  if (!absl::ConsumePrefix(&word, "--")) return false;
  const absl::string_view name = word.substr(0, word.find('='));
  for (const char* global : kGlobalFlagNames) {
    if (name == global) return true;
  }
  if (FindFlag(command, name) != nullptr) return true;
  absl::string_view stem = name;
  if (absl::ConsumeSuffix(&stem, "-file") ||
      absl::ConsumeSuffix(&stem, "_file")) {
    const FlagSpec* secret = FindFlag(command, stem);
    return secret != nullptr && secret->secret;
  }
  return false;
}

absl::Status RequestFlagParser::Apply(const std::vector<std::string>& args,
                                      size_t* index) {
  const std::string& word = args[*index];
  if (!absl::StartsWith(word, "--")) {
    // Long words are not echoed: they may be a secret given without its flag.
    return UsageError(
        reason::kUnexpectedArgument,
        absl::StrCat(command_->name, " takes only flags (--name value); ",
                     word.size() <= 24 ? "\"" + word + "\" is not one"
                                       : "an argument is not one"));
  }
  absl::string_view body = absl::string_view(word).substr(2);
  const size_t equals = body.find('=');
  const bool has_inline_value = equals != absl::string_view::npos;
  const absl::string_view name =
      has_inline_value ? body.substr(0, equals) : body;
  const FlagSpec* flag = FindFlag(*command_, name);
  // --X-file PATH for a secret flag --X.
  bool file_form = false;
  if (flag == nullptr) {
    absl::string_view stem = name;
    if (absl::ConsumeSuffix(&stem, "-file") ||
        absl::ConsumeSuffix(&stem, "_file")) {
      const FlagSpec* secret = FindFlag(*command_, stem);
      if (secret != nullptr && secret->secret) {
        flag = secret;
        file_form = true;
      }
    }
  }
  if (flag == nullptr) {
    std::vector<std::string> known;
    for (const FlagSpec& f : command_->flags) known.push_back("--" + f.name);
    return UsageError(
        reason::kUnknownFlag,
        absl::StrCat("--", name, " is not a flag of ", command_->name, "; ",
                     known.empty()
                         ? "it takes no flags"
                         : "its flags are " + absl::StrJoin(known, ", ")));
  }
  const FieldDescriptor* field = flag->field;

  std::string value;
  if (has_inline_value) {
    value = std::string(body.substr(equals + 1));
    *index += 1;
  } else if (!file_form && field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL &&
             !field->is_repeated()) {
    if (*index + 1 < args.size() && IsBoolLiteral(args[*index + 1])) {
      value = args[*index + 1];
      *index += 2;
    } else {
      value = "true";
      *index += 1;
    }
  } else {
    if (*index + 1 >= args.size() || IsFlagWord(*command_, args[*index + 1])) {
      return UsageError(
          reason::kMissingFlagValue,
          file_form ? absl::StrCat("--", flag->name,
                                   "-file needs a value (PATH, or - for "
                                   "standard input)")
                    : absl::StrCat("--", flag->name, " needs a value (",
                                   flag->value_hint, ")"));
    }
    value = args[*index + 1];
    *index += 2;
  }

  if (const google::protobuf::OneofDescriptor* oneof =
          field->real_containing_oneof()) {
    for (const FieldDescriptor* other : set_fields_) {
      if (other != field && other->real_containing_oneof() == oneof) {
        return UsageError(
            reason::kConflictingFlags,
            absl::StrCat("--", KebabCase(other->name()), " and --", flag->name,
                         " are alternatives (", oneof->name(),
                         "); give only one"));
      }
    }
  }
  if (flag->secret) {
    // Plain arguments may repeat (the last wins, as for any flag); a file
    // or standard input is one form among others only once.
    bool read_elsewhere = file_form || value == "-";
    for (const SecretInput& earlier : secret_inputs_) {
      if (earlier.flag->field == field &&
          earlier.form != SecretForm::kArgument) {
        read_elsewhere = true;
      }
    }
    if (set_fields_.count(field) > 0 && read_elsewhere) {
      return UsageError(
          reason::kConflictingFlags,
          absl::StrCat("--", flag->name, " is given more than once (as --",
                       flag->name, " or --", flag->name,
                       "-file); give it once"));
    }
    set_fields_.insert(field);
    any_flag_ = true;
    if (file_form || value == "-") {
      // Read by the caller (secret_flags.h), after all flags parsed.
      secret_inputs_.push_back(
          {flag, value == "-" ? SecretForm::kStdin : SecretForm::kFile, value});
      return absl::OkStatus();
    }
    secret_inputs_.push_back({flag, SecretForm::kArgument, ""});
    if (!value.empty()) secret_values_.push_back(value);
    return SetValue(*flag, value);
  }
  set_fields_.insert(field);
  any_flag_ = true;
  return SetValue(*flag, value);
}

absl::Status RequestFlagParser::SetSecret(const FlagSpec& flag,
                                          const std::string& value) {
  set_fields_.insert(flag.field);
  any_flag_ = true;
  if (!value.empty()) secret_values_.push_back(value);
  return SetValue(flag, value);
}

absl::Status RequestFlagParser::SetValue(const FlagSpec& flag,
                                         absl::string_view value) {
  const FieldDescriptor* field = flag.field;
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return MergeJsonValue(flag, value, request_);
  }
  if (!field->is_repeated()) return SetScalar(flag, value, request_);
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    const absl::Status status = SetScalar(flag, item, request_);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ParseRequestFlags(const CommandSpec& command,
                               const std::vector<std::string>& args,
                               Message* request) {
  RequestFlagParser parser(&command, request);
  size_t index = 0;
  while (index < args.size()) {
    const absl::Status status = parser.Apply(args, &index);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace cloudlink::client

#include "client/output_format.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Json = nlohmann::ordered_json;

bool IsWellKnown(const Descriptor* type) {
  return absl::StartsWith(type->full_name(), "google.protobuf.");
}

// Rebuilds `in` (the proto3 JSON of a message of `type`) with keys in
// declaration order and null for every field the printer left out (unset
// messages, unset oneof members and proto3 optionals).
Json Stabilize(const Descriptor* type, const Json& in) {
  if (IsWellKnown(type) || !in.is_object()) return in;
  Json out = Json::object();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const auto it = in.find(field->name());
    if (it == in.end()) {
      out[field->name()] = nullptr;
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        field->is_map()) {
      out[field->name()] = *it;
    } else if (field->is_repeated()) {
      Json items = Json::array();
      for (const Json& item : *it) {
        items.push_back(Stabilize(field->message_type(), item));
      }
      out[field->name()] = std::move(items);
    } else {
      out[field->name()] = Stabilize(field->message_type(), *it);
    }
  }
  return out;
}

std::string ScalarText(const Message& message, const FieldDescriptor* field,
                       int index) {
  const Reflection* r = message.GetReflection();
  const bool rep = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string value =
          rep ? r->GetRepeatedString(message, field, index)
              : r->GetString(message, field);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        return absl::Base64Escape(value);
      }
      return value;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(message, field, index)
                  : r->GetBool(message, field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(message, field, index)
                              : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(message, field, index)
                              : r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(message, field, index)
                              : r->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(message, field, index)
                              : r->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(rep ? r->GetRepeatedFloat(message, field, index)
                              : r->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(rep ? r->GetRepeatedDouble(message, field, index)
                              : r->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = rep ? r->GetRepeatedEnumValue(message, field, index)
                             : r->GetEnumValue(message, field);
      const google::protobuf::EnumValueDescriptor* value =
          field->enum_type()->FindValueByNumber(number);
      return value != nullptr ? value->name() : absl::StrCat(number);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "";
}

// One-line text of a well-known type's value.
std::string WellKnownText(const Message& message) {
  const std::string& type = message.GetDescriptor()->full_name();
  if (type == "google.protobuf.Timestamp" ||
      type == "google.protobuf.Duration") {
    const Reflection* r = message.GetReflection();
    const Descriptor* d = message.GetDescriptor();
    const int64_t seconds = r->GetInt64(message, d->FindFieldByName("seconds"));
    const int32_t nanos = r->GetInt32(message, d->FindFieldByName("nanos"));
    if (type == "google.protobuf.Timestamp") {
      google::protobuf::Timestamp t;
      t.set_seconds(seconds);
      t.set_nanos(nanos);
      return FormatTimestamp(t);
    }
    google::protobuf::Duration t;
    t.set_seconds(seconds);
    t.set_nanos(nanos);
    return FormatDuration(t);
  }
  std::string json;
  google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

// How an absent value (an empty string, bytes or list, an unset message) is
// shown, the same as in `aclk-state`.
constexpr absl::string_view kAbsent = "null";

void AppendText(const Message& message, const std::string& indent,
                std::string* out) {
  const Descriptor* type = message.GetDescriptor();
  const Reflection* r = message.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const std::string& key = field->name();
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      std::string value;
      if (field->is_repeated()) {
        std::vector<std::string> items;
        for (int j = 0; j < r->FieldSize(message, field); ++j) {
          items.push_back(ScalarText(message, field, j));
        }
        value = absl::StrJoin(items, ", ");
      } else {
        value = ScalarText(message, field, 0);
      }
      absl::StrAppend(out, indent, key, ": ", value.empty() ? kAbsent : value,
                      "\n");
      continue;
    }
    const Descriptor* item_type = field->message_type();
    if (field->is_map()) {
      if (r->FieldSize(message, field) == 0) {
        absl::StrAppend(out, indent, key, ": ", kAbsent, "\n");
        continue;
      }
      absl::StrAppend(out, indent, key, ":\n");
      const FieldDescriptor* key_field = item_type->map_key();
      const FieldDescriptor* value_field = item_type->map_value();
      for (int j = 0; j < r->FieldSize(message, field); ++j) {
        const Message& entry = r->GetRepeatedMessage(message, field, j);
        const std::string entry_key = ScalarText(entry, key_field, 0);
        if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          absl::StrAppend(out, indent, "  ", entry_key, ":\n");
          AppendText(entry.GetReflection()->GetMessage(entry, value_field),
                     indent + "    ", out);
        } else {
          absl::StrAppend(out, indent, "  ", entry_key, ": ",
                          ScalarText(entry, value_field, 0), "\n");
        }
      }
    } else if (field->is_repeated()) {
      const int size = r->FieldSize(message, field);
      if (IsWellKnown(item_type)) {
        std::vector<std::string> items;
        for (int j = 0; j < size; ++j) {
          items.push_back(
              WellKnownText(r->GetRepeatedMessage(message, field, j)));
        }
        absl::StrAppend(out, indent, key, ": ",
                        size == 0 ? kAbsent : absl::StrJoin(items, ", "), "\n");
        continue;
      }
      if (size == 0) absl::StrAppend(out, indent, key, ": ", kAbsent, "\n");
      for (int j = 0; j < size; ++j) {
        absl::StrAppend(out, indent, key, "[", j, "]:\n");
        AppendText(r->GetRepeatedMessage(message, field, j), indent + "  ",
                   out);
      }
    } else if (!r->HasField(message, field)) {
      absl::StrAppend(out, indent, key, ": ", kAbsent, "\n");
    } else if (IsWellKnown(item_type)) {
      absl::StrAppend(out, indent, key, ": ",
                      WellKnownText(r->GetMessage(message, field)), "\n");
    } else {
      absl::StrAppend(out, indent, key, ":\n");
      AppendText(r->GetMessage(message, field), indent + "  ", out);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> ToStableJson(const Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    const auto text = status.message();
    return Error(absl::StatusCode::kInternal, reason::kJsonFailed,
                 std::string(text.data(), text.size()));
  }
  const Json parsed = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Error(absl::StatusCode::kInternal, reason::kJsonFailed,
                 "the JSON printer produced text that does not parse");
  }
  const Json stable = Stabilize(message.GetDescriptor(), parsed);
  return stable.dump(pretty ? 2 : -1, ' ', false,
                     Json::error_handler_t::replace) +
         "\n";
}

std::string ToText(const Message& message) {
  std::string out;
  AppendText(message, "", &out);
  return out;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  const absl::Time time = absl::FromUnixSeconds(timestamp.seconds()) +
                          absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

std::string FormatDuration(const google::protobuf::Duration& duration) {
  return absl::FormatDuration(absl::Seconds(duration.seconds()) +
                              absl::Nanoseconds(duration.nanos()));
}

}  // namespace cloudlink::client

#include "client/secret_scrub.h"

#include <utility>

#include "absl/strings/str_replace.h"
#include "client/descriptor_commands.h"
#include "google/protobuf/descriptor.h"
#include "server/common/redact.h"

namespace cloudlink::client {

void CollectSecrets(const google::protobuf::Message& message,
                    std::vector<std::string>* out) {
  const google::protobuf::Descriptor* type = message.GetDescriptor();
  const google::protobuf::Reflection* r = message.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    if (field->cpp_type() !=
            google::protobuf::FieldDescriptor::CPPTYPE_STRING ||
        field->is_repeated() || !IsSecretField(field)) {
      continue;
    }
    std::string value = r->GetString(message, field);
    if (!value.empty()) out->push_back(std::move(value));
  }
}

std::string Scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (!secret.empty()) {
      absl::StrReplaceAll({{secret, RedactSecret(secret)}}, &text);
    }
  }
  return text;
}

}  // namespace cloudlink::client

#include "client/proto_comments.h"

#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.pb.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

// Removes the single space protoc keeps after "//" on each line, and the
// trailing newline.
std::string CleanComment(const std::string& raw) {
  absl::string_view text = raw;
  absl::ConsumeSuffix(&text, "\n");
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::ConsumePrefix(&line, " ");
    lines.emplace_back(absl::StripTrailingAsciiWhitespace(line));
  }
  return absl::StrJoin(lines, "\n");
}

template <typename D>
std::string LeadingOf(const D* descriptor) {
  if (descriptor == nullptr) return "";
  google::protobuf::SourceLocation location;
  if (!descriptor->GetSourceLocation(&location)) return "";
  return CleanComment(location.leading_comments);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProtoComments>> ProtoComments::FromDescriptorSet(
    absl::string_view serialized) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(serialized.data(),
                          static_cast<int>(serialized.size()))) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadDescriptorSet,
                 "the embedded descriptor set does not parse");
  }
  std::unique_ptr<ProtoComments> comments(new ProtoComments());
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    if (comments->pool_.BuildFile(file) == nullptr) {
      return Error(absl::StatusCode::kInvalidArgument,
                   reason::kBadDescriptorSet,
                   "the descriptor set does not link at " + file.name());
    }
  }
  return comments;
}

std::string ProtoComments::Leading(
    const google::protobuf::MethodDescriptor* method) const {
  return LeadingOf(pool_.FindMethodByName(method->full_name()));
}

std::string ProtoComments::Leading(
    const google::protobuf::FieldDescriptor* field) const {
  return LeadingOf(pool_.FindFieldByName(field->full_name()));
}

std::string ProtoComments::Leading(
    const google::protobuf::Descriptor* message) const {
  return LeadingOf(pool_.FindMessageTypeByName(message->full_name()));
}

std::string ProtoComments::Leading(
    const google::protobuf::EnumValueDescriptor* value) const {
  return LeadingOf(pool_.FindEnumValueByName(value->full_name()));
}

}  // namespace cloudlink::client

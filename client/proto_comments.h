#pragma once

// Comments of .proto declarations, for help text. Descriptors compiled into a
// binary carry no comments, so they are read from a FileDescriptorSet made
// with `protoc --include_source_info --include_imports` and looked up by the
// full name of the declaration.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace cloudlink::client {

class ProtoComments {
 public:
  // Parses a serialized google.protobuf.FileDescriptorSet (dependencies before
  // dependents, as protoc writes them). INVALID_ARGUMENT
  // "BAD_DESCRIPTOR_SET" when it does not parse or does not link.
  static absl::StatusOr<std::unique_ptr<ProtoComments>> FromDescriptorSet(
      absl::string_view serialized);

  // The leading comment of the declaration with the same full name as the
  // argument (which may come from any pool, typically the generated one):
  // comment markers and the one space after them removed, lines joined with
  // "\n", no trailing newline. "" when the set has no such declaration or it
  // has no leading comment. Thread-safe (const).
  std::string Leading(const google::protobuf::MethodDescriptor* method) const;
  std::string Leading(const google::protobuf::FieldDescriptor* field) const;
  std::string Leading(const google::protobuf::Descriptor* message) const;
  std::string Leading(const google::protobuf::EnumValueDescriptor* value) const;

 private:
  ProtoComments() = default;
  google::protobuf::DescriptorPool pool_;
};

}  // namespace cloudlink::client

#pragma once

// The FileDescriptorSet of cloudlink/v1/cloudlink.proto and its imports, with
// source info (comments), built by protoc at build time and compiled into the
// binary (see the genrules in client/BUILD.bazel).

#include "absl/strings/string_view.h"

namespace cloudlink::client {

// The serialized google.protobuf.FileDescriptorSet. Points to static storage;
// thread-safe.
absl::string_view EmbeddedDescriptorSet();

}  // namespace cloudlink::client

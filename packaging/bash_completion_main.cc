// Prints cloudlinkctl's bash completion script (bash_completion.h) for the
// CloudLink service compiled in; the package's build runs it.

#include <cstdio>
#include <memory>

#include "client/descriptor_commands.h"
#include "client/proto_comments.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "google/protobuf/descriptor.h"
#include "packaging/bash_completion.h"

int main() {
  // Naming a generated class registers the descriptors with the pool.
  (void)cloudlink::v1::State::descriptor();
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "cloudlink.v1.CloudLink");
  if (service == nullptr) {
    std::fputs("bash_completion_gen: no cloudlink.v1.CloudLink service\n",
               stderr);
    return 1;
  }
  // Completion needs no help text: no comments.
  auto comments = cloudlink::client::ProtoComments::FromDescriptorSet("");
  if (!comments.ok()) return 1;
  const std::string script = cloudlink::packaging::BashCompletionScript(
      cloudlink::client::CommandsFromService(service, **comments));
  std::fputs(script.c_str(), stdout);
  return 0;
}

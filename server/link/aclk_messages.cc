#include "server/link/aclk_messages.h"

#include "absl/strings/str_cat.h"
#include "aclk/v1/agent_connection.pb.h"
#include "aclk/v1/disconnect.pb.h"
#include "aclk/v1/node_instance.pb.h"
#include "server/common/error.h"
#include "server/common/uuid.h"

namespace cloudlink::link {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

absl::Status Invalid(absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason::kCloudMessageInvalid,
               sentence);
}

}  // namespace

std::string AgentConnectionPayload(absl::string_view claim_id, bool reachable,
                                   int64_t session_id, bool as_will,
                                   absl::Time wall_now) {
  aclk::v1::UpdateAgentConnection message;
  message.set_claim_id(std::string(claim_id));
  message.set_reachable(reachable);
  message.set_session_id(session_id);
  message.set_update_source(as_will ? aclk::v1::CONNECTION_UPDATE_SOURCE_LWT
                                    : aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT);
  SetTimestamp(wall_now, message.mutable_updated_at());
  if (reachable) {
    aclk::v1::Capability* proto = message.add_capabilities();
    proto->set_name("proto");
    proto->set_version(1);
    proto->set_enabled(true);
  }
  return message.SerializeAsString();
}

std::string CreateNodeInstancePayload(absl::string_view claim_id,
                                      absl::string_view machine_guid,
                                      absl::string_view hostname) {
  aclk::v1::CreateNodeInstance message;
  message.set_claim_id(std::string(claim_id));
  message.set_machine_guid(std::string(machine_guid));
  message.set_hostname(std::string(hostname));
  return message.SerializeAsString();
}

std::string NodeInstanceConnectionPayload(absl::string_view claim_id,
                                          absl::string_view node_id,
                                          int64_t session_id,
                                          absl::Time wall_now) {
  aclk::v1::UpdateNodeInstanceConnection message;
  message.set_claim_id(std::string(claim_id));
  message.set_node_id(std::string(node_id));
  message.set_liveness(true);
  message.set_queryable(true);
  message.set_session_id(session_id);
  SetTimestamp(wall_now, message.mutable_updated_at());
  return message.SerializeAsString();
}

absl::StatusOr<CloudDisconnect> ParseDisconnectReq(absl::string_view payload) {
  aclk::v1::DisconnectReq request;
  if (!request.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return Invalid("a DisconnectReq from the cloud does not parse");
  }
  CloudDisconnect disconnect;
  disconnect.permaban = request.permaban();
  disconnect.reconnect_after_seconds = request.reconnect_after_seconds();
  disconnect.detail =
      absl::StrCat("error code ", request.error_code(),
                   request.error_description().empty()
                       ? ""
                       : absl::StrCat(": ", request.error_description()));
  return disconnect;
}

absl::StatusOr<std::string> ParseCreateNodeInstanceResult(
    absl::string_view payload, absl::string_view machine_guid) {
  aclk::v1::CreateNodeInstanceResult result;
  if (!result.ParseFromArray(payload.data(),
                             static_cast<int>(payload.size()))) {
    return Invalid("a CreateNodeInstanceResult from the cloud does not parse");
  }
  if (!IsValidNodeId(result.node_id())) {
    return Invalid(
        "a CreateNodeInstanceResult from the cloud has no valid node id");
  }
  if (!result.machine_guid().empty() && result.machine_guid() != machine_guid) {
    return Invalid(absl::StrCat(
        "a CreateNodeInstanceResult from the cloud is for machine ",
        result.machine_guid(), ", not this one (", machine_guid, ")"));
  }
  return result.node_id();
}

}  // namespace cloudlink::link

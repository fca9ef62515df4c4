#pragma once

// node::NodeState → cloudlink.v1.State.

#include "cloudlink/v1/cloudlink.pb.h"
#include "server/node/node_state.h"

namespace cloudlink::api {

void ToProto(const node::NodeState& state, cloudlink::v1::State* out);

}  // namespace cloudlink::api

#include "server/web/cloud_json.h"

#include <algorithm>
#include <cstdint>

#include "server/common/version.h"

namespace cloudlink::web {
namespace {

int64_t EpochSeconds(absl::Time t) {
  if (t == absl::InfinitePast()) return 0;
  return absl::ToUnixSeconds(t);
}

}  // namespace

nlohmann::json CloudJson(const node::NodeState& state, absl::Time now) {
  nlohmann::json cloud;
  // Every connection the link made, the current one included.
  const uint64_t connections = state.last_connect == absl::InfinitePast()
                                   ? 0
                                   : state.reconnect_count + 1;
  const int64_t since = EpochSeconds(state.since);
  const int64_t now_s = absl::ToUnixSeconds(now);
  cloud["id"] = connections;
  cloud["status"] = state.status;
  cloud["since"] = since;
  cloud["age"] = std::max<int64_t>(0, now_s - since);
  if (state.claimed) cloud["claim_id"] = state.claimed_id;
  cloud["url"] = state.url;
  if (state.status == node::kStatusOnline) {
    cloud["reason"] = "";
    cloud["reason_name"] = "";
  } else {
    cloud["reason"] = state.reason;
    cloud["reason_name"] = state.reason_name;
  }
  if (state.status == node::kStatusOffline &&
      state.next_attempt != absl::InfinitePast() && state.next_attempt > now) {
    const int64_t next = absl::ToUnixSeconds(state.next_attempt);
    cloud["next_check"] = next;
    cloud["next_in"] = std::max<int64_t>(0, next - now_s);
  }
  return cloud;
}

nlohmann::json AgentJson(const node::NodeState& state) {
  const node::PublishStats& p = state.publish;
  return {
      {"machine_guid", state.machine_guid},
      {"node_id", state.node_id},
      {"hostname", state.hostname},
      {"version", kVersion},
      {"publish",
       {{"published", p.published},
        {"acked", p.acked},
        {"pending", p.pending},
        {"queued", p.queued},
        {"spooled", p.spooled},
        {"failed", p.failed},
        {"timed_out", p.timed_out},
        {"resent", p.resent},
        {"rejected", p.rejected},
        {"bytes", p.bytes}}},
  };
}

bool CanBeClaimed(const node::NodeState& state) {
  return state.status == node::kStatusAvailable ||
         state.status == node::kStatusOffline;
}

}  // namespace cloudlink::web

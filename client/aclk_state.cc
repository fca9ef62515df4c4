#include "client/aclk_state.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/output_format.h"

namespace cloudlink::client {
namespace {

std::string YesNo(bool value) { return value ? "Yes" : "No"; }

std::string OrNull(const std::string& value) {
  return value.empty() ? "null" : value;
}

std::string TimeOrNull(bool has, const google::protobuf::Timestamp& t) {
  return has ? FormatTimestamp(t) : "null";
}

std::string DurationOrNull(bool has, const google::protobuf::Duration& d) {
  return has ? FormatDuration(d) : "null";
}

}  // namespace

std::string AclkStateText(const cloudlink::v1::State& s) {
  std::string out;
  auto line = [&out](absl::string_view key, const std::string& value) {
    absl::StrAppend(&out, key, ": ", value, "\n");
  };
  // The reference tool's lines.
  line("ACLK Available", YesNo(s.aclk_available()));
  line("ACLK Implementation", "Next Generation");
  line("New Cloud Protocol Support", "Yes");
  line("Claimed", YesNo(s.claimed()));
  line("Claimed Id", s.claimed() ? OrNull(s.claimed_id()) : "null");
  line("Online", YesNo(s.online()));
  line("Used Cloud Protocol", "New");
  // The rest of State.
  line("Status", OrNull(s.status()));
  line("Reason", OrNull(s.reason()));
  line("Since", TimeOrNull(s.has_since(), s.since()));
  line("Machine GUID", OrNull(s.machine_guid()));
  line("Node Id", OrNull(s.node_id()));
  line("Hostname", OrNull(s.hostname()));
  line("Cloud URL", OrNull(s.url()));
  line("Rooms", s.rooms().empty() ? "null" : absl::StrJoin(s.rooms(), ","));
  line("Claim Source", OrNull(s.claim_source()));
  line("Config Error", OrNull(s.config_error()));
  line("Proxy", OrNull(s.proxy()));
  line("Proxy Source", OrNull(s.proxy_source()));
  line("Insecure", YesNo(s.insecure()));
  line("Banned By Cloud", YesNo(s.status() == "banned"));
  line("MQTT Version", absl::StrCat(s.mqtt_version()));
  line("Reconnect Count", absl::StrCat(s.reconnect_count()));
  line("Last Connect", TimeOrNull(s.has_last_connect(), s.last_connect()));
  line("Last Disconnect",
       TimeOrNull(s.has_last_disconnect(), s.last_disconnect()));
  line("Next Attempt", TimeOrNull(s.has_next_attempt(), s.next_attempt()));
  line("Last Backoff", DurationOrNull(s.has_last_backoff(), s.last_backoff()));
  const cloudlink::v1::PublishCounters& p = s.publish();
  line("Messages Published", absl::StrCat(p.published()));
  line("Messages Acked", absl::StrCat(p.acked()));
  line("Messages Pending", absl::StrCat(p.pending()));
  line("Messages Timed Out", absl::StrCat(p.timed_out()));
  line("Messages Queued", absl::StrCat(p.queued()));
  line("Messages Spooled", absl::StrCat(p.spooled()));
  line("Messages Resent", absl::StrCat(p.resent()));
  line("Messages Rejected", absl::StrCat(p.rejected()));
  line("Bytes Published", absl::StrCat(p.bytes()));
  line("Bytes Queued", absl::StrCat(p.queued_bytes()));
  line("Bytes Spooled", absl::StrCat(p.spool_bytes()));
  line("Publish Latency p50", DurationOrNull(s.publish_latency().has_p50(),
                                             s.publish_latency().p50()));
  line("Publish Latency p99", DurationOrNull(s.publish_latency().has_p99(),
                                             s.publish_latency().p99()));
  return out;
}

}  // namespace cloudlink::client

#include "server/api/state_proto.h"

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

namespace cloudlink::api {
namespace {

// Unset (left absent) for InfinitePast, the "never" of NodeState.
void SetTime(
    absl::Time t,
    google::protobuf::Timestamp* (*mutable_field)(cloudlink::v1::State*),
    cloudlink::v1::State* out) {
  if (t == absl::InfinitePast()) return;
  google::protobuf::Timestamp* ts = mutable_field(out);
  const int64_t nanos = absl::ToUnixNanos(t);
  ts->set_seconds(nanos / 1000000000);
  ts->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

}  // namespace

void ToProto(const node::NodeState& s, cloudlink::v1::State* out) {
  out->Clear();
  out->set_aclk_available(true);
  out->set_claimed(s.claimed);
  out->set_claimed_id(s.claimed_id);
  out->set_machine_guid(s.machine_guid);
  out->set_node_id(s.node_id);
  out->set_url(s.url);
  for (const auto& room : s.rooms) out->add_rooms(room);
  out->set_proxy(s.proxy);
  out->set_proxy_source(s.proxy_source);
  out->set_insecure(s.insecure);
  out->set_status(s.status);
  out->set_reason(s.reason);
  SetTime(
      s.since, [](cloudlink::v1::State* m) { return m->mutable_since(); }, out);
  out->set_online(s.online);
  out->set_mqtt_version(s.mqtt_version);
  out->set_reconnect_count(s.reconnect_count);
  SetTime(
      s.last_connect,
      [](cloudlink::v1::State* m) { return m->mutable_last_connect(); }, out);
  SetTime(
      s.last_disconnect,
      [](cloudlink::v1::State* m) { return m->mutable_last_disconnect(); },
      out);
  SetTime(
      s.next_attempt,
      [](cloudlink::v1::State* m) { return m->mutable_next_attempt(); }, out);
  SetDuration(s.last_backoff, out->mutable_last_backoff());

  cloudlink::v1::PublishCounters* p = out->mutable_publish();
  p->set_published(s.publish.published);
  p->set_acked(s.publish.acked);
  p->set_pending(s.publish.pending);
  p->set_timed_out(s.publish.timed_out);
  p->set_queued(s.publish.queued);
  p->set_spooled(s.publish.spooled);
  p->set_bytes(s.publish.bytes);
  p->set_resent(s.publish.resent);
  p->set_queued_bytes(s.publish.queued_bytes);
  p->set_spool_bytes(s.publish.spool_bytes);
  p->set_rejected(s.publish.rejected);
  p->set_wait_timed_out(s.publish.wait_timed_out);
  p->set_spool_corrupt(s.publish.spool_corrupt);
  p->set_failed(s.publish.failed);
  SetDuration(s.publish.latency_p50,
              out->mutable_publish_latency()->mutable_p50());
  SetDuration(s.publish.latency_p99,
              out->mutable_publish_latency()->mutable_p99());

  out->set_claim_source(s.claim_source);
  out->set_config_error(s.config_error);
  out->set_hostname(s.hostname);
}

}  // namespace cloudlink::api

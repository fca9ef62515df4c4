// CPU cost of the publish hot path without any I/O, for 64 B, 1 KiB and
// 16 KiB payloads:
//   BM_EncodePublish           one QoS 1 PUBLISH (topic alias on, as the
//                              session sends it after a topic's first use)
//   BM_EncodePublishInFrame    the same plus the masked WebSocket frame
//                              around it: the bytes handed to TLS
//   BM_EncodeWindowInOneFrame  a Receive Maximum window (20) of PUBLISHes
//                              coalesced into one frame, as the link writes
//   BM_ApplyWsMask             masking alone, in place
//   BM_SessionQos1Window       MqttSession: Publish a window of 20 QoS 1
//                              messages, then feed their 20 PUBACKs back
//   BM_SessionQos0             MqttSession: Publish one QoS 0 message
// Every benchmark reports items_per_second = messages/s (so ns/message is
// 1e9 / items_per_second) and bytes_per_second = payload bytes/s.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/mqtt/mqtt_encoder.h"
#include "server/mqtt/mqtt_session.h"
#include "server/websocket/websocket_frame.h"

namespace cloudlink::link {
namespace {

constexpr char kTopic[] =
    "/agent/0b0a1c9e-7f2f-4a52-9a3e-2c1d3e4f5a6b/outbound/v1/x";
// mosquitto's default Receive Maximum (max_inflight_messages 20).
constexpr int kWindow = 20;

mqtt::MqttPublishView MakePublish(absl::string_view payload,
                                  uint16_t packet_id) {
  mqtt::MqttPublishView publish;
  publish.qos = 1;
  publish.topic = kTopic;
  publish.packet_id = packet_id;
  publish.topic_alias = 3;
  publish.payload = payload;
  return publish;
}

uint16_t NextId(uint16_t id) { return id == 65535 ? 1 : id + 1; }

void SetMessageCounters(benchmark::State& state, int64_t messages) {
  state.SetItemsProcessed(messages);
  state.SetBytesProcessed(messages * state.range(0));
}

// MQTT encoding alone.
void BM_EncodePublish(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  std::string out;
  uint16_t packet_id = 1;
  for (auto _ : state) {
    out.clear();
    if (!mqtt::EncodePublish(MakePublish(payload, packet_id), &out).ok()) {
      state.SkipWithError("EncodePublish failed");
      break;
    }
    packet_id = NextId(packet_id);
    benchmark::DoNotOptimize(out.data());
  }
  SetMessageCounters(state, static_cast<int64_t>(state.iterations()));
}

// MQTT encoding plus the WebSocket frame (copy and mask) around it: the
// bytes handed to TLS.
void BM_EncodePublishInFrame(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  websocket::WsFrameEncoder frames([] {
    return websocket::WsMaskKey{0x12, 0x34, 0x56, 0x78};
  });
  std::string mqtt;
  std::string wire;
  uint16_t packet_id = 1;
  for (auto _ : state) {
    mqtt.clear();
    wire.clear();
    if (!mqtt::EncodePublish(MakePublish(payload, packet_id), &mqtt).ok()) {
      state.SkipWithError("EncodePublish failed");
      break;
    }
    frames.AppendBinary(mqtt, &wire);
    packet_id = NextId(packet_id);
    benchmark::DoNotOptimize(wire.data());
  }
  SetMessageCounters(state, static_cast<int64_t>(state.iterations()));
}

// A window of PUBLISHes appended to one buffer and sent as one frame: the
// coalescing the link does (server/link/window_refill.h).
void BM_EncodeWindowInOneFrame(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  websocket::WsFrameEncoder frames([] {
    return websocket::WsMaskKey{0x12, 0x34, 0x56, 0x78};
  });
  std::string mqtt;
  std::string wire;
  uint16_t packet_id = 1;
  for (auto _ : state) {
    mqtt.clear();
    wire.clear();
    for (int i = 0; i < kWindow; ++i) {
      if (!mqtt::EncodePublish(MakePublish(payload, packet_id), &mqtt).ok()) {
        state.SkipWithError("EncodePublish failed");
        return;
      }
      packet_id = NextId(packet_id);
    }
    frames.AppendBinary(mqtt, &wire);
    benchmark::DoNotOptimize(wire.data());
  }
  SetMessageCounters(state, static_cast<int64_t>(state.iterations()) * kWindow);
}

// Masking alone, in place.
void BM_ApplyWsMask(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'm');
  const websocket::WsMaskKey key = {0x12, 0x34, 0x56, 0x78};
  for (auto _ : state) {
    websocket::ApplyWsMask(data.data(), data.size(), key);
    benchmark::ClobberMemory();
  }
  SetMessageCounters(state, static_cast<int64_t>(state.iterations()));
}

// A session that has seen a CONNACK with Receive Maximum kWindow and a topic
// alias maximum, and no subscription.
std::unique_ptr<mqtt::MqttSession> ConnectedSession(absl::Time now) {
  mqtt::SessionConfig config;
  config.client_id = "bench";
  auto session = std::make_unique<mqtt::MqttSession>(config);
  std::string out;
  if (!session->Begin(now, &out).ok()) return nullptr;
  mqtt::MqttConnack connack;
  connack.properties.receive_maximum = kWindow;
  connack.properties.topic_alias_maximum = 10;
  std::string bytes;
  if (!mqtt::EncodeConnack(connack, &bytes).ok() ||
      !session->OnBytes(bytes, now, &out).ok() || !session->connected()) {
    return nullptr;
  }
  session->TakeEvents();
  return session;
}

// PUBACKs for packet ids 1..65535 and then 1..kWindow again, so that any
// window of kWindow consecutive ids (wrapping) is one contiguous slice.
std::string AllPubacks(size_t* bytes_per_ack) {
  std::string acks;
  uint16_t id = 1;
  for (int i = 0; i < 65535 + kWindow; ++i) {
    mqtt::MqttPuback ack;
    ack.packet_id = id;
    (void)mqtt::EncodePuback(ack, &acks);
    id = NextId(id);
  }
  *bytes_per_ack = acks.size() / (65535 + kWindow);
  return acks;
}

// The session's per-message work for QoS 1: Publish (copy into the session,
// alias lookup, packet id, encode, in-flight map) and the PUBACK (decode,
// in-flight erase, event), a window at a time as the link does.
void BM_SessionQos1Window(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  const std::string topic = kTopic;
  const absl::Time now = absl::UnixEpoch();
  std::unique_ptr<mqtt::MqttSession> session = ConnectedSession(now);
  if (session == nullptr) {
    state.SkipWithError("the session did not connect");
    return;
  }
  size_t ack_size = 0;
  const std::string acks = AllPubacks(&ack_size);
  size_t next_ack = 0;  // index of the first id of the window, 0-based
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < kWindow; ++i) {
      session->Publish(topic, payload, 1, now, &out);
    }
    benchmark::DoNotOptimize(out.data());
    if (!session
             ->OnBytes(absl::string_view(acks).substr(next_ack * ack_size,
                                                      kWindow * ack_size),
                       now, &out)
             .ok()) {
      state.SkipWithError("PUBACKs refused");
      break;
    }
    next_ack = (next_ack + kWindow) % 65535;
    std::vector<mqtt::SessionEvent> events = session->TakeEvents();
    if (events.size() != static_cast<size_t>(kWindow)) {
      state.SkipWithError("not every message was acknowledged");
      break;
    }
  }
  SetMessageCounters(state, static_cast<int64_t>(state.iterations()) * kWindow);
}

// The session's per-message work for QoS 0 (no window, no acknowledgement).
void BM_SessionQos0(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  const std::string topic = kTopic;
  const absl::Time now = absl::UnixEpoch();
  std::unique_ptr<mqtt::MqttSession> session = ConnectedSession(now);
  if (session == nullptr) {
    state.SkipWithError("the session did not connect");
    return;
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    session->Publish(topic, payload, 0, now, &out);
    benchmark::DoNotOptimize(out.data());
  }
  SetMessageCounters(state, static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_EncodePublish)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_EncodePublishInFrame)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_EncodeWindowInOneFrame)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_ApplyWsMask)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_SessionQos1Window)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_SessionQos0)->Arg(64)->Arg(1024)->Arg(16384);

}  // namespace
}  // namespace cloudlink::link

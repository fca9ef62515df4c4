// Encode cost of one QoS 1 PUBLISH (topic alias on, as the session sends it
// after the first use of a topic) and of the masked WebSocket frame that
// carries it, for 64 B, 1 KiB and 16 KiB payloads. Counters report payload
// bytes per second.

#include <benchmark/benchmark.h>

#include <string>

#include "server/link/mqtt_codec.h"
#include "server/link/websocket_frame.h"

namespace cloudlink::link {
namespace {

MqttPublishView MakePublish(absl::string_view payload, uint16_t packet_id) {
  MqttPublishView publish;
  publish.qos = 1;
  publish.topic = "/agent/0b0a1c9e-7f2f-4a52-9a3e-2c1d3e4f5a6b/outbound/v1/x";
  publish.packet_id = packet_id;
  publish.topic_alias = 3;
  publish.payload = payload;
  return publish;
}

// MQTT encoding alone.
void BM_EncodePublish(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  std::string out;
  uint16_t packet_id = 1;
  for (auto _ : state) {
    out.clear();
    if (!EncodePublish(MakePublish(payload, packet_id), &out).ok()) {
      state.SkipWithError("EncodePublish failed");
      break;
    }
    packet_id = packet_id == 65535 ? 1 : packet_id + 1;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

// MQTT encoding plus the WebSocket frame (copy and mask) around it: the
// bytes handed to TLS.
void BM_EncodePublishInFrame(benchmark::State& state) {
  const std::string payload(static_cast<size_t>(state.range(0)), 'p');
  WsFrameEncoder frames([] { return WsMaskKey{0x12, 0x34, 0x56, 0x78}; });
  std::string mqtt;
  std::string wire;
  uint16_t packet_id = 1;
  for (auto _ : state) {
    mqtt.clear();
    wire.clear();
    if (!EncodePublish(MakePublish(payload, packet_id), &mqtt).ok()) {
      state.SkipWithError("EncodePublish failed");
      break;
    }
    frames.AppendBinary(mqtt, &wire);
    packet_id = packet_id == 65535 ? 1 : packet_id + 1;
    benchmark::DoNotOptimize(wire.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

// Masking alone, in place.
void BM_ApplyWsMask(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'm');
  const WsMaskKey key = {0x12, 0x34, 0x56, 0x78};
  for (auto _ : state) {
    ApplyWsMask(data.data(), data.size(), key);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

BENCHMARK(BM_EncodePublish)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_EncodePublishInFrame)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_ApplyWsMask)->Arg(64)->Arg(1024)->Arg(16384);

}  // namespace
}  // namespace cloudlink::link

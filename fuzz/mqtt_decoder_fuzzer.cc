// MqttDecoder (server/mqtt/mqtt_decoder.h) over bytes from the broker.
//
// Input: byte 0 picks the Maximum Packet Size, byte 1 the chunk size for the
// second pass; the rest is the byte stream. Checks: the stream decodes to
// the same packets and the same end (needs more / error) whether it is fed
// at once or in chunks; every packet decoded re-encodes, and the encoding
// decodes back to an equal packet.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/mqtt/mqtt_decoder.h"
#include "server/mqtt/mqtt_encoder.h"

namespace cloudlink::fuzz {
namespace {

using mqtt::MqttDecoder;
using mqtt::MqttPacket;

struct Decoded {
  std::vector<MqttPacket> packets;
  absl::Status end;  // OK: needs more bytes
};

// Drains every packet the decoder has; returns false after an error.
bool Drain(MqttDecoder& decoder, Decoded* out) {
  while (true) {
    absl::StatusOr<absl::optional<MqttPacket>> next = decoder.Next();
    if (!next.ok()) {
      out->end = next.status();
      // A broken decoder keeps saying so.
      absl::StatusOr<absl::optional<MqttPacket>> again = decoder.Next();
      FUZZ_CHECK(!again.ok() && again.status() == next.status(),
                 "error is not sticky");
      return false;
    }
    if (!next->has_value()) return true;
    out->packets.push_back(**next);
  }
}

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  static constexpr uint32_t kMaxSizes[] = {0, 2, 16, 128, 1024, 65536};
  const uint32_t max_size = kMaxSizes[in.Byte() % 6];
  const size_t chunk = in.Byte() % 13 + 1;
  const std::string stream = in.Rest();

  Decoded whole;
  MqttDecoder a(max_size);
  a.Feed(stream);
  Drain(a, &whole);

  Decoded pieces;
  MqttDecoder b(max_size);
  for (size_t pos = 0; pos < stream.size(); pos += chunk) {
    b.Feed(absl::string_view(stream).substr(pos, chunk));
    if (!Drain(b, &pieces)) break;
  }
  FUZZ_CHECK(whole.packets.size() == pieces.packets.size(),
             "chunked feeding changed the packet count");
  for (size_t i = 0; i < whole.packets.size(); ++i) {
    FUZZ_CHECK(whole.packets[i] == pieces.packets[i],
               "chunked feeding changed a packet");
  }
  FUZZ_CHECK(whole.end.code() == pieces.end.code(),
             "chunked feeding changed the outcome: " + whole.end.ToString() +
                 " vs " + pieces.end.ToString());
  if (!whole.end.ok()) {
    FUZZ_CHECK(whole.end.code() == absl::StatusCode::kInvalidArgument,
               whole.end.ToString());
  }

  for (const MqttPacket& packet : whole.packets) {
    std::string encoded;
    if (!mqtt::EncodePacket(packet, &encoded).ok()) continue;
    MqttDecoder again(0);
    again.Feed(encoded);
    absl::StatusOr<absl::optional<MqttPacket>> back = again.Next();
    FUZZ_CHECK(back.ok(), "re-encoded packet does not decode: " +
                              back.status().ToString());
    FUZZ_CHECK(back->has_value() && **back == packet,
               "re-encoded packet decodes differently");
    FUZZ_CHECK(again.buffered_bytes() == 0, "re-encoded packet left bytes");
  }
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

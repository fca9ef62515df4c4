#pragma once

// The client's outgoing WebSocket data, framed for the wire (RFC 6455
// section 5): bytes appended by the owner (MQTT packets, any number of them)
// leave as masked binary frames of at most `max_frame_payload` bytes each,
// every frame with a fresh key from the key source and masked a word at a
// time (ApplyWsMask). A frame is built whole in one buffer, so the transport
// hands it to TLS in a single write without touching it again.
//
// Many appended chunks are coalesced into one frame; a chunk larger than the
// cap is split across frames (MQTT over WebSocket ignores frame boundaries).
//
// Thread-safety: a plain value that one thread uses at a time.

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "server/websocket/websocket_frame.h"

namespace cloudlink::websocket {

class WsSendQueue {
 public:
  // `max_frame_payload` must be at least 1. `key_source` is called once per
  // frame built.
  WsSendQueue(WsMaskKeySource key_source, size_t max_frame_payload);

  WsSendQueue(const WsSendQueue&) = delete;
  WsSendQueue& operator=(const WsSendQueue&) = delete;

  // Queues `bytes` (copied) behind what is already queued.
  void Append(absl::string_view bytes);

  // Bytes queued and not yet taken into a frame.
  size_t pending_bytes() const { return queued_.size() - taken_; }

  // Appends to `*out` one FIN binary frame (header, key, masked payload)
  // carrying the next min(pending_bytes(), max_frame_payload) queued bytes,
  // which leave the queue. Returns that payload size; 0 when nothing is
  // queued (`*out` unchanged, no key drawn).
  size_t TakeFrame(std::string* out);

 private:
  WsFrameEncoder encoder_;
  const size_t max_frame_payload_;
  std::string queued_;  // [taken_, end) still queued
  size_t taken_ = 0;
};

}  // namespace cloudlink::websocket

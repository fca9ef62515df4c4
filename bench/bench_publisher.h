#pragma once

// What the end-to-end benchmark asks of a publishing client, so that our
// link path and a peer client run the exact same workload.
//
// A batch is complete when the broker has every message: for QoS 1 when
// every PUBACK is in; for QoS 0 when the PUBACK of one QoS 1 marker message
// published after the batch is in (the broker handles a connection's packets
// in order). In flight at any time: QoS 1 at most window() messages (the
// broker's Receive Maximum from CONNACK); QoS 0 at most about
// kQos0BacklogBytes of payload written by the caller and not yet handed to
// TLS.

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cloudlink::bench {

inline constexpr size_t kQos0BacklogBytes = 1 << 20;

class BenchPublisher {
 public:
  virtual ~BenchPublisher() = default;

  // Publishes `count` copies of `payload` on the publisher's topic with
  // `qos` (0 or 1) and returns when the batch is complete (see above), or
  // an error: the connection failed, a message was refused, or the batch
  // took longer than `timeout` (DEADLINE_EXCEEDED BATCH_TIMEOUT).
  virtual absl::Status PublishBatch(int count, absl::string_view payload,
                                    int qos, absl::Duration timeout) = 0;

  // The QoS 1 window (the broker's Receive Maximum).
  virtual uint16_t window() const = 0;
};

}  // namespace cloudlink::bench

#pragma once

// The two ways a Producer (producer.h) reaches cloudlinkd, behind one
// interface: a Publish stream over gRPC (producer.cc) and the publish socket
// (producer_socket.cc). Also how both batch; their acks are ack_book.h's.
// Private to the library.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/producer.h"
#include "cloudlink/v1/cloudlink.pb.h"

namespace cloudlink::client {

// The contract of each call is Producer's.
class Producer::Stream {
 public:
  virtual ~Stream() = default;
  virtual absl::StatusOr<uint64_t> Publish(std::string topic,
                                           std::string payload,
                                           cloudlink::v1::DeliveryLevel level,
                                           absl::Duration timeout) = 0;
  virtual std::vector<ProducerAck> TakeAcks() = 0;
  virtual size_t outstanding() = 0;
  virtual absl::Status Close(absl::Duration timeout) = 0;
};

// Appends message `id` to `pending` (with options.wait_when_full) and adds
// its topic and payload bytes to `pending_bytes`.
void AddPending(const ProducerOptions& options, uint64_t id, std::string topic,
                std::string payload, cloudlink::v1::DeliveryLevel level,
                cloudlink::v1::PublishRequest* pending, size_t* pending_bytes);

// Moves the first messages of `pending` (as many as options allow: at most
// max_batch_messages and, past the first, max_batch_bytes of topics and
// payloads) into `out` (cleared first), and takes their bytes off
// `pending_bytes`.
void TakeBatch(const ProducerOptions& options,
               cloudlink::v1::PublishRequest* pending, size_t* pending_bytes,
               cloudlink::v1::PublishRequest* out);

}  // namespace cloudlink::client

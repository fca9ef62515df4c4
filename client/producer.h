#pragma once

// Producer: the fast way for a program to publish through cloudlinkd. It
// keeps one Publish stream open, sends messages in batches
// (PublishRequest.batch), keeps at most `window` messages outstanding
// (sent, not yet acknowledged), and hands back one ack per message.
//
// Two ways to reach cloudlinkd, with the same calls and guarantees:
// - OpenSocket(): the publish socket (cloudlinkd --publish-socket, by
//   default publish.sock beside the API's socket), for local producers.
//   No gRPC: a message costs the producer one write, and cloudlinkd two
//   thread wake-ups at a steady rate while connected (docs/operating.md).
// - Open(): the Publish RPC on a gRPC channel (the API's Unix socket, or
//   the remote listener over mutual TLS).
//
// Batching needs no timer: a message published while no write is in flight
// is written at once, on the publishing thread; messages published while a
// write is in flight wait and go together in the next write. A slow
// producer so pays no latency, and a fast one gets large batches.
//
// Acks: one ProducerAck per message, with the id Publish() returned. They
// go to the `on_ack` callback (on the library's reading thread; it must not
// block or call back into the Producer) or, without one, wait for
// TakeAcks(). When the stream ends with messages still outstanding, each
// gets an ack with the stream's error (UNAVAILABLE when the stream ended
// without one).
//
// Without on_ack, the publish socket's acks are read by the calls
// themselves (Publish, TakeAcks and outstanding take what has arrived,
// without blocking), and the library's reading thread only reads while a
// call waits (for room in the window, in Close) or messages wait for their
// write: a steady producer pays no thread wake-up per ack. The end of a
// stream (cloudlinkd stopping) is then seen by the next call. That thread
// is named "producer-read".
//
// Thread-safe: any thread may Publish; Close() once.
//
//   auto producer = Producer::OpenSocket("/run/cloudlink/publish.sock",
//                                        ProducerOptions());
//   absl::StatusOr<uint64_t> id = (*producer)->Publish("alarm-log", body);
//   ...
//   absl::Status closed = (*producer)->Close(absl::Seconds(30));

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.pb.h"

namespace cloudlink::client {

struct ProducerOptions {
  // Messages sent and not yet acknowledged, at most. Once that many are
  // outstanding, Publish() blocks until a quarter of them are acknowledged
  // (one, with a window under 8): a producer faster than its acks so wakes
  // once per batch of acks and writes batches. Keep window × message size well
  // under the daemon's queue (--queue-bytes, 64 MiB by default).
  size_t window = 1024;
  // One request carries at most this many messages and bytes (gRPC refuses
  // messages over 4 MiB).
  size_t max_batch_messages = 512;
  size_t max_batch_bytes = size_t{1} << 20;
  // PublishMessage.wait_when_full for every message.
  bool wait_when_full = false;
  // The stream's deadline from Open(); InfiniteDuration: none. It bounds
  // waits for room and is each AT_MOST_ONCE / AT_LEAST_ONCE message's
  // delivery deadline.
  absl::Duration stream_timeout = absl::InfiniteDuration();
};

struct ProducerAck {
  uint64_t id = 0;
  absl::Status status;  // OK: delivered to the level asked for
};

class Producer {
 public:
  // Opens a Publish stream on `channel` (for example
  // grpc::CreateChannel("unix:/run/cloudlinkd/api.sock",
  // grpc::InsecureChannelCredentials())). Does not wait for the daemon:
  // a daemon that is not there shows as the acks' and Close()'s error.
  // With gRPC 1.51 (Debian 12), the destruction of a process's last channel
  // runs gRPC's shutdown, which can wait up to 10 s for gRPC's TCP backup
  // poller after a stream that wrote fast: a program that must not stall
  // there keeps gRPC initialised for its life (grpc_init() once, as
  // bench/daemon_producer does) or keeps its channel.
  static std::unique_ptr<Producer> Open(
      std::shared_ptr<grpc::Channel> channel, ProducerOptions options,
      std::function<void(const ProducerAck&)> on_ack = nullptr);
  // Connects to cloudlinkd's publish socket at `path`. A socket that cannot
  // be reached (no daemon, or one started with --publish-socket=off), a
  // caller cloudlinkd refuses, or a connection cap shows as Publish()'s and
  // Close()'s error (UNAVAILABLE naming the path, or the daemon's
  // PERMISSION_DENIED CALLER_NOT_AUTHORIZED / RESOURCE_EXHAUSTED
  // STREAM_LIMIT_REACHED).
  static std::unique_ptr<Producer> OpenSocket(
      const std::string& path, ProducerOptions options,
      std::function<void(const ProducerAck&)> on_ack = nullptr);
  // Cancels the stream if Close() was not called (unacknowledged messages
  // may still be delivered), and waits for it to end.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues one message and returns its id (1, 2, 3, ...). When `window`
  // messages are outstanding, blocks until a quarter of them are
  // acknowledged (ProducerOptions::window), up to `timeout`. Errors:
  // DEADLINE_EXCEEDED (no room came in time), FAILED_PRECONDITION (after
  // Close()), or the stream's error once it ended.
  absl::StatusOr<uint64_t> Publish(
      std::string topic, std::string payload,
      cloudlink::v1::DeliveryLevel level =
          cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE,
      absl::Duration timeout = absl::InfiniteDuration());

  // The acks that arrived since the last call (only without on_ack).
  std::vector<ProducerAck> TakeAcks();
  // Messages published and not yet acknowledged.
  size_t outstanding() const;
  // Waits up to `timeout` until every message is acknowledged, then
  // half-closes and returns the stream's final status. DEADLINE_EXCEEDED
  // when acks are still missing at `timeout` (the stream is then cancelled
  // and they are acked CANCELLED).
  absl::Status Close(absl::Duration timeout = absl::Seconds(60));

  class Stream;  // producer_stream.h

 private:
  explicit Producer(std::unique_ptr<Stream> stream);
  std::unique_ptr<Stream> stream_;
};

}  // namespace cloudlink::client

#pragma once

// The Publish RPC's bidirectional stream: reads
// PublishRequests, hands each to the Publisher, and writes one PublishAck
// per request as its outcome arrives (acks may come out of request order).
//
// Threads: the handler thread reads and publishes (a full queue with
// wait_when_full blocks it, which is the stream's backpressure); a writer
// thread writes acks, one write at a time (gRPC's rule), each flushed (a
// buffer hint could leave a blocking Write waiting for a flush that never
// comes). Completions that arrive after the
// stream ended (cancelled, deadline) are dropped harmlessly.
//
// Ends when the client half-closes, after every outstanding ack was
// written; or when the call is cancelled, its deadline passes, or the
// service shuts down. The stream's deadline, when set, bounds waits for
// room and is each AT_MOST_ONCE / AT_LEAST_ONCE message's delivery
// deadline.
//
// A request that does not parse (a topic that is not valid UTF-8 from a
// client whose protobuf sends it anyway, as C++ does after logging) reads,
// through gRPC's synchronous stream API, exactly like the half-close: the
// stream ends with OK after the outstanding acks, and that request gets no
// ack. Clients in languages that check UTF-8 on serialization (Go, Python,
// Java) refuse to send it in the first place.

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "server/publish/publisher.h"

namespace cloudlink::api {

// Serves one Publish call. `publisher` may be null (every request then
// gets UNAVAILABLE PUBLISH_UNAVAILABLE). `shutting_down` is polled.
grpc::Status ServePublishStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<cloudlink::v1::PublishAck,
                             cloudlink::v1::PublishRequest>* stream,
    publish::Publisher* publisher, const std::atomic<bool>& shutting_down);

}  // namespace cloudlink::api

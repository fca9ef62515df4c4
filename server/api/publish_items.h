#pragma once

// The messages of a cloudlink.v1.PublishRequest, as the Publisher takes
// them: shared by the Publish RPC's stream (publish_stream.h) and the
// publish socket (server/publish_socket/), so both publish, refuse and wait
// for room alike.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "server/common/clock.h"
#include "server/publish/completion_batch.h"
#include "server/publish/publisher.h"

namespace cloudlink::api {

publish::DeliveryLevel LevelOf(cloudlink::v1::DeliveryLevel level);

// One message of a request, whichever form it came in; points into the
// request, which must outlive it.
struct PublishItem {
  uint64_t id;
  std::string* topic;
  std::string* payload;
  cloudlink::v1::DeliveryLevel level;
  bool wait_when_full;
};

// The request's messages: its batch, or the request itself when the batch
// is empty.
std::vector<PublishItem> ItemsOf(cloudlink::v1::PublishRequest& request);

// What publishing the items of one stream needs from that stream.
class PublishItemsSink {
 public:
  virtual ~PublishItemsSink() = default;
  // The completion of accepted message `id` (`tag` passed through).
  virtual publish::Completion CompletionFor(uint64_t id, uint32_t tag) = 0;
  // Called before each message is offered, and again (Unaccept) when it was
  // not accepted: the stream counts the messages whose completion is due.
  virtual void Accepting() = 0;
  virtual void Unaccept() = 0;
  // The messages refused at once, to be answered.
  virtual void Refused(std::vector<publish::Outcome>& refused) = 0;
  // Polled while a message waits for room.
  virtual bool Over() const = 0;
};

// Publishes items[first..] through `publisher` (null: each is refused
// UNAVAILABLE PUBLISH_UNAVAILABLE). `deadline` bounds waits for room and is
// the delivery deadline of queue messages. Without `may_wait`, a message
// with wait_when_full is only tried; when the queue or spool is full it and
// the rest stay untouched and its index is returned, for a thread that may
// wait to call again with `may_wait`. Returns items.size() when every
// message was offered.
size_t PublishItems(publish::Publisher* publisher,
                    std::vector<PublishItem>& items, size_t first, uint32_t tag,
                    bool may_wait, MonotonicTime deadline,
                    PublishItemsSink& sink);

}  // namespace cloudlink::api

#include "client/producer_stream.h"

#include <utility>

namespace cloudlink::client {

void AddPending(const ProducerOptions& options, uint64_t id, std::string topic,
                std::string payload, cloudlink::v1::DeliveryLevel level,
                cloudlink::v1::PublishRequest* pending, size_t* pending_bytes) {
  cloudlink::v1::PublishMessage* m = pending->add_batch();
  m->set_id(id);
  m->set_topic(std::move(topic));
  m->set_payload(std::move(payload));
  m->set_level(level);
  m->set_wait_when_full(options.wait_when_full);
  *pending_bytes += m->topic().size() + m->payload().size();
}

void TakeBatch(const ProducerOptions& options,
               cloudlink::v1::PublishRequest* pending, size_t* pending_bytes,
               cloudlink::v1::PublishRequest* out) {
  out->Clear();
  if (pending->batch_size() <= static_cast<int>(options.max_batch_messages) &&
      *pending_bytes <= options.max_batch_bytes) {
    out->Swap(pending);
    *pending_bytes = 0;
    return;
  }
  // A bounded prefix; the rest waits for the next write.
  size_t bytes = 0;
  int n = 0;
  while (n < pending->batch_size() &&
         n < static_cast<int>(options.max_batch_messages)) {
    const auto& m = pending->batch(n);
    const size_t size = m.topic().size() + m.payload().size();
    if (n > 0 && bytes + size > options.max_batch_bytes) break;
    bytes += size;
    ++n;
  }
  auto* from = pending->mutable_batch();
  for (int i = 0; i < n; ++i) out->add_batch()->Swap(from->Mutable(i));
  from->DeleteSubrange(0, n);
  *pending_bytes -= bytes;
}

}  // namespace cloudlink::client

#include "server/api/publish_items.h"

#include <utility>

#include "server/common/error.h"

namespace cloudlink::api {

publish::DeliveryLevel LevelOf(cloudlink::v1::DeliveryLevel level) {
  switch (level) {
    case cloudlink::v1::DELIVERY_LEVEL_AT_MOST_ONCE:
      return publish::DeliveryLevel::kAtMostOnce;
    case cloudlink::v1::DELIVERY_LEVEL_DURABLE:
      return publish::DeliveryLevel::kDurable;
    default:
      return publish::DeliveryLevel::kAtLeastOnce;
  }
}

std::vector<PublishItem> ItemsOf(cloudlink::v1::PublishRequest& request) {
  std::vector<PublishItem> items;
  if (request.batch_size() == 0) {
    items.push_back({request.id(), request.mutable_topic(),
                     request.mutable_payload(), request.level(),
                     request.wait_when_full()});
    return items;
  }
  items.reserve(request.batch_size());
  for (cloudlink::v1::PublishMessage& m : *request.mutable_batch()) {
    items.push_back({m.id(), m.mutable_topic(), m.mutable_payload(), m.level(),
                     m.wait_when_full()});
  }
  return items;
}

size_t PublishItems(publish::Publisher* publisher,
                    std::vector<PublishItem>& items, size_t first, uint32_t tag,
                    bool may_wait, MonotonicTime deadline,
                    PublishItemsSink& sink) {
  std::vector<publish::Outcome> refused;
  size_t i = first;
  for (; i < items.size(); ++i) {
    PublishItem& item = items[i];
    if (publisher == nullptr) {
      refused.push_back(
          {item.id,
           Error(absl::StatusCode::kUnavailable, reason::kPublishUnavailable,
                 "this daemon has no publish path"),
           tag});
      continue;
    }
    publish::PublishArgs args;
    args.topic = std::move(*item.topic);
    args.payload = std::move(*item.payload);
    args.level = LevelOf(item.level);
    args.wait_when_full = item.wait_when_full;
    args.wait_deadline = deadline;
    if (item.wait_when_full && may_wait) {
      args.cancelled = [&sink] { return sink.Over(); };
    }
    if (args.level != publish::DeliveryLevel::kDurable) {
      args.delivery_deadline = deadline;
    }
    sink.Accepting();
    absl::Status accepted;
    if (item.wait_when_full && !may_wait) {
      // Try without waiting; only a full queue or spool leaves this message
      // and the rest of the request to a thread that may wait.
      publish::Completion done = sink.CompletionFor(item.id, tag);
      accepted = publisher->TryPublish(args, done);
      if (accepted.code() == absl::StatusCode::kResourceExhausted) {
        *item.topic = std::move(args.topic);
        *item.payload = std::move(args.payload);
        sink.Unaccept();
        break;
      }
    } else {
      accepted =
          publisher->Publish(std::move(args), sink.CompletionFor(item.id, tag));
    }
    if (!accepted.ok()) {
      sink.Unaccept();
      refused.push_back({item.id, std::move(accepted), tag});
    }
  }
  if (!refused.empty()) sink.Refused(refused);
  return i;
}

}  // namespace cloudlink::api

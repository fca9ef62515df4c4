#include "tools/devcloud/message_log.h"

#include "server/common/uuid.h"

namespace cloudlink::devcloud {

void MessageLog::Add(absl::string_view claim_id, ReceivedMessage message) {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<ReceivedMessage>& list = messages_[LowercaseUuid(claim_id)];
  list.push_back(std::move(message));
  while (list.size() > kPerNode) list.pop_front();
}

nlohmann::json MessageLog::ForNode(absl::string_view claim_id) const {
  nlohmann::json out = nlohmann::json::array();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = messages_.find(LowercaseUuid(claim_id));
  if (it == messages_.end()) return out;
  for (const ReceivedMessage& m : it->second) {
    out.push_back({{"topic", m.topic},
                   {"size", m.size},
                   {"receivedAt", absl::FormatTime(m.received)},
                   {"type", m.type},
                   {"fields", m.fields}});
  }
  return out;
}

}  // namespace cloudlink::devcloud

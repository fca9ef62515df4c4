#pragma once

// What the dev cloud's subscriber received, per node, so tests can assert
// what a node sent (GET /_dev/nodes/{claim_id}/messages).

#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace cloudlink::devcloud {

struct ReceivedMessage {
  std::string topic;
  size_t size = 0;
  absl::Time received;
  std::string type;       // decoded message type, "" when unknown
  nlohmann::json fields;  // decoded fields (proto field names), or null
};

// Thread-safe. Keeps the last kPerNode messages of each node.
class MessageLog {
 public:
  static constexpr size_t kPerNode = 200;

  void Add(absl::string_view claim_id, ReceivedMessage message);
  // Oldest first: [{"topic","size","receivedAt","type","fields"}].
  nlohmann::json ForNode(absl::string_view claim_id) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::deque<ReceivedMessage>> messages_;  // by mu_
};

}  // namespace cloudlink::devcloud

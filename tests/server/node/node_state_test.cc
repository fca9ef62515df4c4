#include "server/node/node_state.h"

#include <functional>
#include <vector>

#include "gtest/gtest.h"

namespace cloudlink::node {
namespace {

// Equality decides whether WatchState callers hear of a change, so every
// field must take part; a sample from each kind and from PublishStats.
TEST(NodeStateTest, EveryFieldTakesPartInEquality) {
  const std::vector<std::function<void(NodeState&)>> changes = {
      [](NodeState& s) { s.claimed = true; },
      [](NodeState& s) { s.rooms.push_back("r"); },
      [](NodeState& s) { s.since += absl::Seconds(1); },
      [](NodeState& s) { s.last_backoff = absl::Seconds(2); },
      [](NodeState& s) { s.hostname = "h"; },
      [](NodeState& s) { s.publish.failed = 1; },
      [](NodeState& s) { s.publish.timed_out = 1; },
      [](NodeState& s) { s.publish.latency_p99 = absl::Milliseconds(3); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    SCOPED_TRACE(i);
    NodeState a;
    NodeState b;
    EXPECT_EQ(a, b);
    changes[i](b);
    EXPECT_NE(a, b);
  }
}

}  // namespace
}  // namespace cloudlink::node

// Connection over a scripted transport (fake_wss_connector.h): every byte the
// link writes is checked against what the broker side of the script expects,
// and time moves only with the script, so keepalive and budgets take no real
// time.

#include "server/link/connection.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aclk/v1/agent_connection.pb.h"
#include "aclk/v1/disconnect.pb.h"
#include "aclk/v1/node_instance.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/common/lendable_loop.h"
#include "server/link/publish_pump.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "tests/server/link/fake_wss_connector.h"

namespace cloudlink::link {
namespace {

using ::cloudlink::testing::ConnackBytes;
using ::cloudlink::testing::FakeClock;
using ::cloudlink::testing::FakeWssConnector;
using ::cloudlink::testing::PingrespBytes;
using ::cloudlink::testing::PubackBytes;
using ::cloudlink::testing::PublishBytes;
using ::cloudlink::testing::ScriptedConnection;
using ::cloudlink::testing::SubackBytes;
using mqtt::MqttPacket;
using mqtt::MqttPacketType;
using Type = mqtt::MqttPacketType;

constexpr char kClaimId[] = "0b8a1b0e-1c1f-4e39-9d3a-5d7e6b7c8d9e";
constexpr char kGuid[] = "5a6b7c8d-0000-4000-8000-000000000001";
constexpr char kAgentTopic[] = "/agent/c/outbound/v1/ConnectionUpdate";
constexpr char kInboxTopic[] = "/agent/c/inbound/v2/cmd";
constexpr char kCreateTopic[] = "/agent/c/outbound/v1/CreateNodeInstance";
constexpr char kNodeConnTopic[] =
    "/agent/c/outbound/v1/UpdateNodeInstanceConnection";
constexpr char kDataTopic[] = "/agent/c/outbound/v1/UpdateNodeInfo";

// Records what the connection tells its link; `leave` is the link's answer
// to LeaveRequested(), and `on_stable` lets a test act at that moment.
class RecordingHost : public ConnectionHost {
 public:
  bool Attach(Connection* connection) override {
    ++attaches;
    attached = connection;
    return leave;
  }
  void Detach() override {
    ++detaches;
    attached = nullptr;
  }
  bool LeaveRequested() override { return leave; }
  void OnOnline() override { ++onlines; }
  void OnStable() override {
    ++stables;
    if (on_stable) on_stable();
  }
  void OnNodeId(const std::string& id) override { node_ids.push_back(id); }
  void OnProgress() override { ++progress; }

  // The link asks the connection to leave now (as a Stop() would).
  void AskToLeave() {
    leave = true;
    attached->Wake();
  }

  bool leave = false;
  Connection* attached = nullptr;
  std::function<void()> on_stable;
  int attaches = 0;
  int detaches = 0;
  int onlines = 0;
  int stables = 0;
  int progress = 0;
  std::vector<std::string> node_ids;
};

const mqtt::MqttPublish* AsPublish(const MqttPacket& p) {
  return absl::get_if<mqtt::MqttPublish>(&p);
}

bool PublishTo(const MqttPacket& p, const std::string& topic) {
  const mqtt::MqttPublish* publish = AsPublish(p);
  return publish != nullptr && publish->topic == topic;
}

aclk::v1::UpdateAgentConnection AgentUpdate(const MqttPacket& p) {
  aclk::v1::UpdateAgentConnection update;
  EXPECT_TRUE(update.ParseFromString(AsPublish(p)->payload));
  return update;
}

std::string DisconnectReqBytes(uint64_t after_seconds, bool permaban) {
  aclk::v1::DisconnectReq request;
  request.set_reconnect_after_seconds(after_seconds);
  request.set_permaban(permaban);
  request.set_error_code(7);
  request.set_error_description("maintenance");
  return PublishBytes(absl::StrCat(kInboxTopic, "/DisconnectReq"),
                      request.SerializeAsString());
}

class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionParams Params() {
    ConnectionParams params;
    params.claim_id = kClaimId;
    params.machine_guid = kGuid;
    params.hostname = "node-1";
    params.session_id = 1700000000;
    params.credentials.client_id = kClaimId;
    params.credentials.username = "user";
    params.credentials.password = "secret-password";
    params.credentials.topics = {{"agent-connection", kAgentTopic},
                                 {"inbox-cmd", kInboxTopic},
                                 {"create-node-instance", kCreateTopic},
                                 {"node-instance-connection", kNodeConnTopic},
                                 {"node-instance-info", kDataTopic}};
    params.target.url = "wss://mqtt.example:443/mqtt";
    return params;
  }

  // Open → CONNECT → CONNACK → SUBSCRIBE, hello and node instance → SUBACK
  // and PUBACKs for the hello (packet id 2) and the instance message (3).
  ScriptedConnection& ScriptOnline(ScriptedConnection& c,
                                   const std::string& node_id = "") {
    c.Open()
        .Expect(Type::kConnect,
                [](const MqttPacket& p) {
                  const auto& connect = absl::get<mqtt::MqttConnect>(p);
                  return connect.client_id == kClaimId &&
                         connect.username == "user" &&
                         connect.password == "secret-password" &&
                         connect.will.has_value() &&
                         connect.will->topic == kAgentTopic;
                })
        .Read(ConnackBytes())
        .Expect(Type::kSubscribe,
                [](const MqttPacket& p) {
                  const auto& s = absl::get<mqtt::MqttSubscribe>(p);
                  return s.subscriptions.size() == 1 &&
                         s.subscriptions[0].topic_filter ==
                             absl::StrCat(kInboxTopic, "/#");
                })
        .Expect(Type::kPublish,
                [](const MqttPacket& p) {
                  return PublishTo(p, kAgentTopic) &&
                         AgentUpdate(p).reachable();
                })
        .Expect(Type::kPublish, [node_id](const MqttPacket& p) {
          return PublishTo(p, node_id.empty() ? kCreateTopic : kNodeConnTopic);
        });
    c.Read(SubackBytes(1)).Read(PubackBytes(2)).Read(PubackBytes(3));
    return c;
  }

  FakeClock clock_;
  FakeWssConnector connector_{&clock_};
  RecordingHost host_;
};

TEST_F(ConnectionTest, GoesOnlineAnnouncesItselfAndLeavesWithGoodbye) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Expect(Type::kPublish,
              [](const MqttPacket& p) {
                return PublishTo(p, kAgentTopic) && !AgentUpdate(p).reachable();
              })
      .Read(PubackBytes(4))
      .Expect(Type::kDisconnect);
  ConnectionParams params = Params();
  params.stable_acks = 2;  // the hello's and the node instance's PUBACKs
  host_.on_stable = [&] { host_.AskToLeave(); };
  Connection connection(&host_, &clock_, nullptr, params);
  connection.Run(&connector_);

  EXPECT_TRUE(c.script_done());
  EXPECT_TRUE(c.link_closed());
  EXPECT_TRUE(connection.close_reason().ok()) << connection.close_reason();
  EXPECT_TRUE(connection.reached_online());
  EXPECT_FALSE(connection.banned());
  EXPECT_EQ(host_.onlines, 1);
  EXPECT_EQ(host_.stables, 1);
  EXPECT_EQ(host_.attaches, 1);
  EXPECT_EQ(host_.detaches, 1);
  // The hello and the goodbye carry the session id and the claim id.
  const aclk::v1::UpdateAgentConnection hello = AgentUpdate(c.written()[2]);
  EXPECT_EQ(hello.claim_id(), kClaimId);
  EXPECT_EQ(hello.session_id(), 1700000000);
  EXPECT_EQ(hello.update_source(), aclk::v1::CONNECTION_UPDATE_SOURCE_AGENT);
  ASSERT_EQ(hello.capabilities_size(), 1);
  EXPECT_EQ(hello.capabilities(0).name(), "proto");
  // The will is the LWT form of the goodbye.
  const auto& connect = absl::get<mqtt::MqttConnect>(c.written()[0]);
  aclk::v1::UpdateAgentConnection will;
  ASSERT_TRUE(will.ParseFromString(connect.will->payload));
  EXPECT_FALSE(will.reachable());
  EXPECT_EQ(will.update_source(), aclk::v1::CONNECTION_UPDATE_SOURCE_LWT);
}

TEST_F(ConnectionTest, ConnackCutIntoSingleBytesStillGoesOnline) {
  ScriptedConnection& c = connector_.Script();
  c.Open()
      .Expect(Type::kConnect)
      .ReadInChunks(ConnackBytes(), 1)
      .Expect(Type::kSubscribe)
      .Expect(Type::kPublish)
      .Expect(Type::kPublish)
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "closed by the test"));
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(host_.onlines, 1);
  EXPECT_EQ(ReasonOf(connection.close_reason()), "CONNECTION_LOST");
}

// A Stop() or Start() posted while env and login ran (no connection to wake
// then) is seen when the connection attaches: it never opens a session.
TEST_F(ConnectionTest, CommandPostedBeforeAttachClosesBeforeAnyPacket) {
  ScriptedConnection& c = connector_.Script();  // never opens
  host_.leave = true;
  const MonotonicTime start = clock_.MonotonicNow();
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.link_closed());
  EXPECT_TRUE(c.written().empty());
  EXPECT_TRUE(connection.close_reason().ok()) << connection.close_reason();
  EXPECT_FALSE(connection.reached_online());
  EXPECT_LT(clock_.MonotonicNow() - start, absl::Seconds(1));
}

TEST_F(ConnectionTest, DisconnectReqLeavesWithTheCloudsDelay) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Read(DisconnectReqBytes(30, /*permaban=*/false))
      .Expect(Type::kPublish,
              [](const MqttPacket& p) {
                return PublishTo(p, kAgentTopic) && !AgentUpdate(p).reachable();
              })
      .Read(PubackBytes(4))
      .Expect(Type::kDisconnect);
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(ReasonOf(connection.close_reason()), "CLOUD_DISCONNECT");
  EXPECT_THAT(std::string(connection.close_reason().message()),
              ::testing::HasSubstr("error code 7: maintenance"));
  EXPECT_EQ(connection.cloud_delay(), absl::Seconds(30));
  EXPECT_FALSE(connection.banned());
}

TEST_F(ConnectionTest, PermabanIsBanned) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Read(DisconnectReqBytes(0, /*permaban=*/true))
      .Expect(Type::kPublish)
      .Read(PubackBytes(4))
      .Expect(Type::kDisconnect);
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_TRUE(connection.banned());
  EXPECT_EQ(ReasonOf(connection.close_reason()), "BANNED");
  EXPECT_EQ(connection.close_reason().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(ConnectionTest, GoodbyeWithoutPubackStillDisconnectsWithinTheWait) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c).Expect(Type::kPublish).Expect(Type::kDisconnect);
  ConnectionParams params = Params();
  params.stable_acks = 2;
  host_.on_stable = [&] { host_.AskToLeave(); };
  Connection connection(&host_, &clock_, nullptr, params);
  const MonotonicTime start = clock_.MonotonicNow();
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_TRUE(connection.close_reason().ok());
  // goodbye_wait (2 s) for the PUBACK, then DISCONNECT and close.
  EXPECT_GE(clock_.MonotonicNow() - start, absl::Seconds(2));
  EXPECT_LT(clock_.MonotonicNow() - start, absl::Seconds(5));
}

TEST_F(ConnectionTest, PingsWhenIdleAndTimesOutWithoutPingresp) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Expect(Type::kPingreq)
      .Read(PingrespBytes())
      .Expect(Type::kPingreq);  // and no PINGRESP this time
  Connection connection(&host_, &clock_, nullptr, Params());
  const MonotonicTime start = clock_.MonotonicNow();
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(ReasonOf(connection.close_reason()), "KEEPALIVE_TIMEOUT");
  // Two idle periods (45 s) and the PINGRESP timeout (60 s).
  EXPECT_GE(clock_.MonotonicNow() - start, absl::Seconds(45 + 45 + 60));
  EXPECT_LT(clock_.MonotonicNow() - start, absl::Seconds(45 + 45 + 60 + 5));
}

TEST_F(ConnectionTest, NotOpenWithinTheBudgetIsConnectTimeout) {
  ScriptedConnection& c = connector_.Script();  // never opens
  ConnectionParams params = Params();
  params.connect_budget = absl::Seconds(120);
  Connection connection(&host_, &clock_, nullptr, params);
  const MonotonicTime start = clock_.MonotonicNow();
  connection.Run(&connector_);
  EXPECT_TRUE(c.link_closed());
  EXPECT_EQ(ReasonOf(connection.close_reason()), "CONNECT_TIMEOUT");
  EXPECT_GE(clock_.MonotonicNow() - start, absl::Seconds(120));
  EXPECT_LT(clock_.MonotonicNow() - start, absl::Seconds(125));
}

// A login field the CONNECT cannot carry fails the connection at once,
// instead of waiting out the connect budget with nothing sent.
TEST_F(ConnectionTest, OversizedLoginFieldIsLoginInvalidAtOnce) {
  ScriptedConnection& c = connector_.Script();
  c.Open();
  ConnectionParams params = Params();
  params.credentials.password = std::string(70000, 'p');
  Connection connection(&host_, &clock_, nullptr, params);
  const MonotonicTime start = clock_.MonotonicNow();
  connection.Run(&connector_);
  EXPECT_TRUE(c.link_closed());
  EXPECT_TRUE(c.written().empty());
  EXPECT_EQ(ReasonOf(connection.close_reason()), "LOGIN_INVALID");
  EXPECT_THAT(std::string(connection.close_reason().message()),
              ::testing::Not(::testing::HasSubstr("ppppppp")));
  EXPECT_LT(clock_.MonotonicNow() - start, absl::Seconds(5));
}

TEST_F(ConnectionTest, SetUpErrorOfTheConnectorIsTheCloseReason) {
  // No script: the fake connector refuses.
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_EQ(ReasonOf(connection.close_reason()), "CONNECT_FAILED");
  EXPECT_EQ(host_.attaches, 0);
}

TEST_F(ConnectionTest, AsksForItsNodeIdAndAnnouncesTheNodeInstance) {
  aclk::v1::CreateNodeInstanceResult result;
  result.set_node_id("7d3f2a9e-node");
  result.set_machine_guid(kGuid);
  ScriptedConnection& c = connector_.Script();
  c.Open().Expect(Type::kConnect).Read(ConnackBytes());
  c.Expect(Type::kSubscribe)
      .Expect(Type::kPublish,
              [](const MqttPacket& p) { return PublishTo(p, kAgentTopic); })
      .Expect(Type::kPublish,
              [](const MqttPacket& p) {
                aclk::v1::CreateNodeInstance create;
                return PublishTo(p, kCreateTopic) &&
                       create.ParseFromString(AsPublish(p)->payload) &&
                       create.claim_id() == kClaimId &&
                       create.machine_guid() == kGuid &&
                       create.hostname() == "node-1";
              })
      .Read(PublishBytes(absl::StrCat(kInboxTopic, "/CreateNodeInstanceResult"),
                         result.SerializeAsString()))
      .Expect(Type::kPublish,
              [](const MqttPacket& p) {
                aclk::v1::UpdateNodeInstanceConnection update;
                return PublishTo(p, kNodeConnTopic) &&
                       update.ParseFromString(AsPublish(p)->payload) &&
                       update.node_id() == "7d3f2a9e-node" &&
                       update.claim_id() == kClaimId && update.liveness() &&
                       update.queryable() && update.session_id() == 1700000000;
              })
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_THAT(host_.node_ids, ::testing::ElementsAre("7d3f2a9e-node"));
}

TEST_F(ConnectionTest, KnownNodeIdGoesStraightToTheInstanceConnection) {
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c, "node-known")
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  ConnectionParams params = Params();
  params.node_id = "node-known";
  Connection connection(&host_, &clock_, nullptr, params);
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_TRUE(host_.node_ids.empty());
}

TEST_F(ConnectionTest, NodeInstanceResultForAnotherMachineIsIgnored) {
  aclk::v1::CreateNodeInstanceResult result;
  result.set_node_id("other");
  result.set_machine_guid("5a6b7c8d-0000-4000-8000-0000000000ff");
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Read(PublishBytes(absl::StrCat(kInboxTopic, "/CreateNodeInstanceResult"),
                         result.SerializeAsString()))
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  Connection connection(&host_, &clock_, nullptr, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());  // and no packet after it
  EXPECT_TRUE(host_.node_ids.empty());
}

// The publish path: messages go out after the announcements; an
// unacknowledged one is carried to the next connection and sent first there.
// A loop to lend (the publish socket's in cloudlinkd): input is an eventfd
// the test writes; Serve() takes it. Records what the connection does.
class RecordingLoop final : public LendableLoop {
 public:
  RecordingLoop() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~RecordingLoop() override { close(fd_); }
  int Borrow() override {
    EXPECT_FALSE(lent);
    ++borrows;
    lent = true;
    return fd_;
  }
  bool Serve() override {
    EXPECT_TRUE(lent) << "served while not lent";
    ++serves;
    uint64_t count;
    EXPECT_EQ(read(fd_, &count, sizeof(count)),
              static_cast<ssize_t>(sizeof(count)));
    return !stopping;
  }
  MonotonicTime deadline() const override {
    return MonotonicTime::InfiniteFuture();
  }
  void GiveBack() override {
    EXPECT_TRUE(lent);
    lent = false;
    ++give_backs;
  }
  void Input() {
    const uint64_t one = 1;
    ASSERT_EQ(write(fd_, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  }

  int borrows = 0;
  int serves = 0;
  int give_backs = 0;
  bool lent = false;
  bool stopping = false;

 private:
  const int fd_;
};

// A connection whose publisher has a producers' loop to lend (loop_).
class LentLoopTest : public ConnectionTest {
 protected:
  void SetUp() override { ASSERT_TRUE(publisher_.AttachInputLoop(&loop_)); }

  // Online (ScriptOnline), then the goodbye: reachable=false, its PUBACK,
  // DISCONNECT.
  void ScriptOnlineThenLeave(ScriptedConnection& c) {
    ScriptOnline(c)
        .Expect(Type::kPublish,
                [](const MqttPacket& p) {
                  return PublishTo(p, kAgentTopic) &&
                         !AgentUpdate(p).reachable();
                })
        .Read(PubackBytes(4))
        .Expect(Type::kDisconnect);
  }

  RecordingLoop loop_;
  publish::PublishQueue queue_{publish::QueueOptions{}, &clock_};
  publish::Publisher publisher_{&queue_, nullptr};
  PublishPump pump_{&publisher_};
};

// An open connection borrows the producers' loop, serves it when its
// descriptor has input, and gives it back when the connection is gone.
TEST_F(LentLoopTest, ServesTheProducersLoopWhileOpenAndGivesItBack) {
  loop_.Input();  // waiting when the connection opens
  ScriptedConnection& c = connector_.Script();
  ScriptOnlineThenLeave(c);
  ConnectionParams params = Params();
  params.stable_acks = 2;
  host_.on_stable = [&] {
    EXPECT_EQ(loop_.borrows, 1);
    EXPECT_GE(loop_.serves, 1) << "the input was not served";
    loop_.Input();
    host_.AskToLeave();
  };
  {
    Connection connection(&host_, &clock_, &pump_, params);
    connection.Run(&connector_);
    EXPECT_TRUE(c.script_done());
  }
  EXPECT_EQ(loop_.borrows, 1);
  EXPECT_EQ(loop_.serves, 2);
  EXPECT_EQ(loop_.give_backs, 1);
  EXPECT_FALSE(loop_.lent);
}

// A connection that never opens does not borrow the loop.
TEST_F(LentLoopTest, AConnectionThatNeverOpensLeavesTheLoopAlone) {
  connector_.Script();  // never opens
  ConnectionParams params = Params();
  params.connect_budget = absl::Seconds(5);
  Connection connection(&host_, &clock_, &pump_, params);
  connection.Run(&connector_);
  EXPECT_EQ(ReasonOf(connection.close_reason()), "CONNECT_TIMEOUT");
  EXPECT_EQ(loop_.borrows, 0);
}

// A loop that is stopping (its Serve() returns false) is given back at
// once and not served again, while the connection goes on.
TEST_F(LentLoopTest, AStoppingLoopIsGivenBackAtOnce) {
  loop_.stopping = true;
  loop_.Input();
  ScriptedConnection& c = connector_.Script();
  ScriptOnlineThenLeave(c);
  ConnectionParams params = Params();
  params.stable_acks = 2;
  host_.on_stable = [&] {
    EXPECT_EQ(loop_.give_backs, 1) << "not given back after a false Serve()";
    loop_.Input();  // no longer watched
    host_.AskToLeave();
  };
  Connection connection(&host_, &clock_, &pump_, params);
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(loop_.borrows, 1);
  EXPECT_EQ(loop_.serves, 1);
  EXPECT_EQ(loop_.give_backs, 1);
}

TEST_F(ConnectionTest, PublishesAndCarriesUnackedMessagesToTheNextConnection) {
  publish::PublishQueue queue(publish::QueueOptions{}, &clock_);
  publish::Publisher publisher(&queue, nullptr);
  PublishPump pump(&publisher);
  std::vector<absl::Status> outcomes(3, absl::UnknownError("pending"));
  for (int i = 0; i < 3; ++i) {
    publish::Message m;
    m.topic = "node-instance-info";
    m.payload = absl::StrCat("m", i);
    m.done = [&outcomes, i](const absl::Status& s) { outcomes[i] = s; };
    ASSERT_TRUE(queue.Push(std::move(m)).ok());
  }
  auto data = [](const std::string& payload) {
    return [payload](const MqttPacket& p) {
      return PublishTo(p, kDataTopic) && AsPublish(p)->payload == payload &&
             AsPublish(p)->qos == 1 && !AsPublish(p)->dup;
    };
  };
  ScriptedConnection& first = connector_.Script();
  ScriptOnline(first)
      .Expect(Type::kPublish, data("m0"))
      .Expect(Type::kPublish, data("m1"))
      .Expect(Type::kPublish, data("m2"))
      .Read(PubackBytes(4))
      .Read(PubackBytes(5))
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  {
    Connection connection(&host_, &clock_, &pump, Params());
    connection.Run(&connector_);
  }
  EXPECT_TRUE(first.script_done());
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_TRUE(outcomes[1].ok());
  EXPECT_EQ(outcomes[2].code(), absl::StatusCode::kUnknown);  // still pending
  EXPECT_EQ(pump.status().held, 1u);
  EXPECT_EQ(pump.status().in_flight, 0u);

  ScriptedConnection& second = connector_.Script();
  ScriptOnline(second)
      .Expect(Type::kPublish, data("m2"))
      .Read(PubackBytes(4))
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  {
    Connection connection(&host_, &clock_, &pump, Params());
    connection.Run(&connector_);
  }
  EXPECT_TRUE(second.script_done());
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2];
  EXPECT_EQ(pump.status().held, 0u);
  EXPECT_EQ(pump.status().resent, 1u);
}

// Memory goes back when a burst is over: the memory queue's release runs
// once the last message in flight is acknowledged (and freed), not when the
// queue is merely drained into the session.
TEST_F(ConnectionTest, ReleasesMemoryWhenTheLastMessageInFlightIsAcked) {
  publish::QueueOptions options;
  options.release_after_bytes = 10;
  std::vector<absl::Status> outcomes(3, absl::UnknownError("pending"));
  std::vector<int> acked_at_release;
  options.release_memory = [&] {
    acked_at_release.push_back(static_cast<int>(
        std::count_if(outcomes.begin(), outcomes.end(),
                      [](const absl::Status& s) { return s.ok(); })));
  };
  publish::PublishQueue queue(options, &clock_);
  publish::Publisher publisher(&queue, nullptr);
  PublishPump pump(&publisher);
  for (int i = 0; i < 3; ++i) {
    publish::Message m;
    m.topic = "node-instance-info";
    m.payload = absl::StrCat("message", i);
    m.done = [&outcomes, i](const absl::Status& s) { outcomes[i] = s; };
    ASSERT_TRUE(queue.Push(std::move(m)).ok());
  }
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Expect(Type::kPublish)
      .Expect(Type::kPublish)
      .Expect(Type::kPublish)
      .Read(PubackBytes(4))
      .Read(PubackBytes(5))
      .Read(PubackBytes(6))
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  Connection connection(&host_, &clock_, &pump, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(acked_at_release, std::vector<int>{3});
}

TEST_F(ConnectionTest, UnknownTopicAndRefusedMessagesFailWithTheirReasons) {
  publish::PublishQueue queue(publish::QueueOptions{}, &clock_);
  publish::Publisher publisher(&queue, nullptr);
  PublishPump pump(&publisher);
  absl::Status unknown = absl::UnknownError("pending");
  absl::Status refused = absl::UnknownError("pending");
  publish::Message bad_topic;
  bad_topic.topic = "no-such-topic";
  bad_topic.done = [&](const absl::Status& s) { unknown = s; };
  ASSERT_TRUE(queue.Push(std::move(bad_topic)).ok());
  publish::Message good;
  good.topic = "node-instance-info";
  good.done = [&](const absl::Status& s) { refused = s; };
  ASSERT_TRUE(queue.Push(std::move(good)).ok());
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Expect(Type::kPublish)
      .Read(PubackBytes(4, mqtt::mqtt_reason::kNotAuthorized))
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  Connection connection(&host_, &clock_, &pump, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(ReasonOf(unknown), "TOPIC_UNKNOWN");
  EXPECT_EQ(ReasonOf(refused), "PUBLISH_REFUSED");
  EXPECT_EQ(pump.status().failed, 2u);
  EXPECT_EQ(pump.status().held, 0u);
}

// An idle link sleeps until its next duty, not in short periodic waits: an
// in-flight message's deadline is such a duty, so the message fails at its
// deadline although nothing else happens until the keepalive (45 s).
TEST_F(ConnectionTest, AnInFlightDeadlineEndsTheIdleWaitOnTime) {
  publish::PublishQueue queue(publish::QueueOptions{}, &clock_);
  publish::Publisher publisher(&queue, nullptr);
  PublishPump pump(&publisher);
  const MonotonicTime deadline = clock_.MonotonicNow() + absl::Seconds(10);
  absl::Status outcome = absl::UnknownError("pending");
  MonotonicTime failed_at = MonotonicTime::InfiniteFuture();
  publish::Message m;
  m.topic = "node-instance-info";
  m.payload = "m";
  m.deadline = deadline;
  m.done = [&](const absl::Status& s) {
    outcome = s;
    failed_at = clock_.MonotonicNow();
  };
  ASSERT_TRUE(queue.Push(std::move(m)).ok());
  ScriptedConnection& c = connector_.Script();
  ScriptOnline(c)
      .Expect(Type::kPublish,
              [](const MqttPacket& p) { return PublishTo(p, kDataTopic); })
      .Expect(Type::kPingreq)  // no PUBACK: the deadline passes first
      .Close(Error(absl::StatusCode::kUnavailable, reason::kConnectionLost,
                   "test"));
  Connection connection(&host_, &clock_, &pump, Params());
  connection.Run(&connector_);
  EXPECT_TRUE(c.script_done());
  EXPECT_EQ(ReasonOf(outcome), "PUBLISH_TIMEOUT");
  EXPECT_LE(failed_at, deadline + absl::Milliseconds(1));
}

}  // namespace
}  // namespace cloudlink::link

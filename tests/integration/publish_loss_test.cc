// Loss tests of the publish path (SPEC section 7) against the real dev
// cloud, cloudlinkd and an independent libmosquitto subscriber on the
// broker's plain listener (the dev cloud's broker admin):
//   (a) 100,000 AT_LEAST_ONCE messages while the broker is stopped and
//       started twice: every sequence number arrives at least once;
//   (b) DURABLE messages, cloudlinkd killed with SIGKILL mid-stream and
//       restarted: every message acked to the producer arrives;
//   (c) the spool's last record corrupted while cloudlinkd is down: the
//       daemon reports it and delivers every intact message.

#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <mosquitto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/cloudlinkd_process.h"
#include "tests/integration/fixtures/dev_cloud.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using json = nlohmann::json;

// Subscribes (QoS 1) to everything the node publishes and records the
// sequence numbers of payloads "<tag>:<seq>". Reconnects by itself
// (libmosquitto's thread) and counts its subscriptions, so a test can wait
// until it is back after a broker restart.
class Subscriber {
 public:
  Subscriber(std::string tag, size_t expected)
      : tag_(std::move(tag)), seen_(expected, false) {}
  ~Subscriber() {
    if (mosq_ != nullptr) {
      mosquitto_disconnect(mosq_);
      mosquitto_loop_stop(mosq_, true);
      mosquitto_destroy(mosq_);
    }
  }

  bool Start(int port, const std::string& user, const std::string& password,
             const std::string& claim_id) {
    mosquitto_lib_init();
    filter_ = absl::StrCat("/agent/", claim_id, "/outbound/#");
    mosq_ = mosquitto_new(nullptr, true, this);
    if (mosq_ == nullptr) return false;
    mosquitto_username_pw_set(mosq_, user.c_str(), password.c_str());
    mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
    mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
      if (rc == 0) {
        mosquitto_subscribe(m, nullptr,
                            static_cast<Subscriber*>(self)->filter_.c_str(), 1);
      }
    });
    mosquitto_subscribe_callback_set(
        mosq_, [](mosquitto*, void* self, int, int, const int*) {
          static_cast<Subscriber*>(self)->subscriptions_.fetch_add(1);
        });
    mosquitto_message_callback_set(
        mosq_, [](mosquitto*, void* self, const mosquitto_message* message) {
          static_cast<Subscriber*>(self)->OnMessage(message);
        });
    if (mosquitto_connect(mosq_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
      return false;
    }
    return mosquitto_loop_start(mosq_) == MOSQ_ERR_SUCCESS;
  }

  int subscriptions() const { return subscriptions_.load(); }
  bool WaitSubscribedMoreThan(int n, absl::Duration timeout) {
    return testing::WaitFor([&] { return subscriptions() > n; }, timeout);
  }
  size_t distinct() {
    absl::MutexLock lock(&mu_);
    return distinct_;
  }
  uint64_t received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  bool Seen(size_t seq) {
    absl::MutexLock lock(&mu_);
    return seq < seen_.size() && seen_[seq];
  }
  // Sequence numbers in `wanted` not seen yet.
  std::vector<size_t> Missing(const std::vector<size_t>& wanted) {
    absl::MutexLock lock(&mu_);
    std::vector<size_t> missing;
    for (size_t seq : wanted) {
      if (seq >= seen_.size() || !seen_[seq]) missing.push_back(seq);
    }
    return missing;
  }

 private:
  void OnMessage(const mosquitto_message* message) {
    absl::string_view payload(static_cast<const char*>(message->payload),
                              static_cast<size_t>(message->payloadlen));
    const std::string prefix = tag_ + ":";
    if (!absl::StartsWith(payload, prefix)) return;
    size_t seq = 0;
    if (!absl::SimpleAtoi(payload.substr(prefix.size()), &seq)) return;
    absl::MutexLock lock(&mu_);
    ++received_;
    if (seq < seen_.size() && !seen_[seq]) {
      seen_[seq] = true;
      ++distinct_;
    }
  }

  const std::string tag_;
  std::string filter_;
  mosquitto* mosq_ = nullptr;
  std::atomic<int> subscriptions_{0};
  absl::Mutex mu_;
  std::vector<bool> seen_ ABSL_GUARDED_BY(mu_);
  size_t distinct_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
};

// A Publish stream to cloudlinkd: Send() writes requests (id = sequence
// number, payload "<tag>:<seq>"), a reader thread collects the acks.
class PublishStream {
 public:
  PublishStream(const std::string& socket_path, std::string tag)
      : tag_(std::move(tag)) {
    auto channel = grpc::CreateChannel("unix:" + socket_path,
                                       grpc::InsecureChannelCredentials());
    stub_ = cloudlink::v1::CloudLink::NewStub(channel);
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::minutes(3));
    stream_ = stub_->Publish(&context_);
    reader_ = std::thread([this] {
      cloudlink::v1::PublishAck ack;
      while (stream_->Read(&ack)) {
        absl::MutexLock lock(&mu_);
        if (ack.code() == 0) {
          acked_.push_back(ack.id());
        } else {
          ++errors_;
          if (first_error_.empty()) first_error_ = ack.message();
        }
      }
      absl::MutexLock lock(&mu_);
      reader_done_ = true;
    });
  }
  ~PublishStream() {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  bool Send(uint64_t seq, cloudlink::v1::DeliveryLevel level) {
    cloudlink::v1::PublishRequest request;
    request.set_id(seq);
    request.set_topic("node-instance-info");
    request.set_payload(absl::StrCat(tag_, ":", seq));
    request.set_level(level);
    request.set_wait_when_full(true);
    return stream_->Write(request);
  }
  // Half-closes, waits for the remaining acks and the status.
  grpc::Status Finish() {
    stream_->WritesDone();
    reader_.join();
    return stream_->Finish();
  }
  size_t acked() {
    absl::MutexLock lock(&mu_);
    return acked_.size();
  }
  std::vector<size_t> acked_ids() {
    absl::MutexLock lock(&mu_);
    return std::vector<size_t>(acked_.begin(), acked_.end());
  }
  uint64_t errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  std::string first_error() {
    absl::MutexLock lock(&mu_);
    return first_error_;
  }
  bool reader_done() {
    absl::MutexLock lock(&mu_);
    return reader_done_;
  }

 private:
  const std::string tag_;
  std::unique_ptr<cloudlink::v1::CloudLink::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<cloudlink::v1::PublishRequest,
                                           cloudlink::v1::PublishAck>>
      stream_;
  std::thread reader_;
  absl::Mutex mu_;
  std::vector<uint64_t> acked_ ABSL_GUARDED_BY(mu_);
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
};

class PublishLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cloud = DevCloud::Start(tmp_.Join("cloud"));
    ASSERT_TRUE(cloud.ok()) << cloud.status();
    cloud_ = *std::move(cloud);
    CloudlinkdOptions options;
    options.cloud_ca = cloud_->ca_path();
    options.claim_conf =
        absl::StrCat("[global]\n    url = ", cloud_->url(),
                     "\n    token = ", cloud_->Env("CLAIM_TOKEN"),
                     "\n    rooms = ", cloud_->Env("ROOMS"), "\n");
    auto daemon = CloudlinkdProcess::Start(options);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
    options_ = options;
    ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
    claim_id_ = daemon_->ClaimedIdFile();
    ASSERT_FALSE(claim_id_.empty());
  }

  bool WaitOnline(absl::Duration timeout) {
    absl::StatusOr<json> state = daemon_->WaitForState(
        [](const json& s) { return s.value("online", false); }, timeout);
    EXPECT_TRUE(state.ok() && state->value("online", false))
        << (state.ok() ? state->dump() : state.status().ToString()) << "\n"
        << daemon_->Stderr();
    return state.ok() && state->value("online", false);
  }

  std::unique_ptr<Subscriber> StartSubscriber(const std::string& tag,
                                              size_t expected) {
    auto subscriber = std::make_unique<Subscriber>(tag, expected);
    int port = 0;
    EXPECT_TRUE(absl::SimpleAtoi(cloud_->Env("BROKER_PLAIN_PORT"), &port));
    EXPECT_FALSE(cloud_->Env("BROKER_ADMIN_PASSWORD").empty());
    EXPECT_TRUE(subscriber->Start(port, cloud_->Env("BROKER_ADMIN_USER"),
                                  cloud_->Env("BROKER_ADMIN_PASSWORD"),
                                  claim_id_));
    EXPECT_TRUE(subscriber->WaitSubscribedMoreThan(0, absl::Seconds(10)));
    return subscriber;
  }

  // Stops and restarts the broker. cloudlinkd is kept from logging in
  // again (login errors) until the subscriber is back, so nothing is
  // published to a broker nobody listens on; then asked to connect now.
  void BounceBroker(Subscriber* subscriber) {
    const int subscribed = subscriber->subscriptions();
    ASSERT_TRUE(
        cloud_->ArmLoginError({{"count", 1000000}, {"status", 503}}).ok());
    ASSERT_TRUE(cloud_->StopBroker().ok());
    ASSERT_TRUE(daemon_
                    ->WaitForState(
                        [](const json& s) { return !s.value("online", true); },
                        absl::Seconds(30))
                    .ok());
    ASSERT_TRUE(cloud_->StartBroker().ok());
    ASSERT_TRUE(
        subscriber->WaitSubscribedMoreThan(subscribed, absl::Seconds(30)));
    ASSERT_TRUE(cloud_->ClearFaults().ok());
    testing::RunResult reload = daemon_->Ctl({"reload-claiming-state"});
    EXPECT_EQ(reload.exit_code, 0) << reload.err;
    ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
  }

  // The newest spool segment holding data ("" when none).
  std::string LastSegment() {
    const std::string dir = daemon_->lib_dir() + "/cloud.d/spool";
    std::string last;
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
      while (struct dirent* entry = readdir(d)) {
        if (absl::StartsWith(entry->d_name, "seg-")) {
          names.push_back(entry->d_name);
        }
      }
      closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      struct stat st;
      const std::string path = dir + "/" + name;
      if (stat(path.c_str(), &st) == 0 && st.st_size > 0) last = path;
    }
    return last;
  }

  testing::TempDir tmp_;
  std::unique_ptr<DevCloud> cloud_;
  std::unique_ptr<CloudlinkdProcess> daemon_;
  CloudlinkdOptions options_;
  std::string claim_id_;
};

TEST_F(PublishLossTest, AtLeastOnceSurvivesTwoBrokerRestarts) {
  constexpr size_t kMessages = 100000;
  constexpr size_t kOutstanding = 20000;  // producer runs ahead of acks
  auto subscriber = StartSubscriber("loss-a", kMessages);
  ASSERT_NE(subscriber, nullptr);
  PublishStream stream(daemon_->socket_path(), "loss-a");
  std::atomic<size_t> sent{0};
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    for (size_t seq = 0; seq < kMessages && !stop; ++seq) {
      while (seq >= stream.acked() + stream.errors() + kOutstanding && !stop) {
        absl::SleepFor(absl::Milliseconds(1));  // pacing, not synchronization
      }
      if (!stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE)) break;
      sent = seq + 1;
    }
  });
  const absl::Time deadline = absl::Now() + absl::Minutes(2);
  for (size_t bounce_at : {kMessages / 5, kMessages * 3 / 5}) {
    ASSERT_TRUE(testing::WaitFor([&] { return stream.acked() >= bounce_at; },
                                 deadline - absl::Now()))
        << "acked " << stream.acked() << "\n"
        << daemon_->Stderr();
    BounceBroker(subscriber.get());
    if (HasFatalFailure()) break;
  }
  const bool all_acked = testing::WaitFor(
      [&] { return stream.acked() + stream.errors() >= kMessages; },
      std::max(absl::ZeroDuration(), deadline - absl::Now()));
  stop = true;
  producer.join();
  EXPECT_TRUE(all_acked) << "sent " << sent << ", acked " << stream.acked();
  EXPECT_EQ(stream.errors(), 0u) << stream.first_error();
  EXPECT_TRUE(stream.Finish().ok());
  EXPECT_TRUE(testing::WaitFor(
      [&] { return subscriber->distinct() == kMessages; }, absl::Seconds(30)))
      << "received " << subscriber->distinct() << " distinct of " << kMessages;
  absl::StatusOr<json> state = daemon_->State();
  ASSERT_TRUE(state.ok());
  const json& publish = (*state)["publish"];
  EXPECT_GE(std::stoull(publish.value("acked", "0")), kMessages);
}

TEST_F(PublishLossTest, DurableMessagesSurviveKillNine) {
  constexpr size_t kMessages = 20000;
  auto subscriber = StartSubscriber("loss-b", kMessages);
  ASSERT_NE(subscriber, nullptr);
  std::vector<size_t> acked;
  {
    PublishStream stream(daemon_->socket_path(), "loss-b");
    std::atomic<bool> stop{false};
    std::thread producer([&] {
      for (size_t seq = 0; seq < kMessages && !stop; ++seq) {
        if (!stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_DURABLE)) break;
      }
    });
    ASSERT_TRUE(testing::WaitFor([&] { return stream.acked() >= 3000; },
                                 absl::Seconds(60)))
        << daemon_->Stderr();
    ASSERT_TRUE(daemon_->Kill().ok());
    stop = true;
    producer.join();
    ASSERT_TRUE(testing::WaitFor([&] { return stream.reader_done(); },
                                 absl::Seconds(30)));
    acked = stream.acked_ids();
    EXPECT_EQ(stream.errors(), 0u) << stream.first_error();
  }
  ASSERT_GE(acked.size(), 3000u);
  ASSERT_TRUE(daemon_->Restart(options_).ok());
  ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
  std::vector<size_t> missing;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        missing = subscriber->Missing(acked);
        return missing.empty();
      },
      absl::Seconds(90)))
      << missing.size() << " of " << acked.size()
      << " acked messages never arrived, first " << missing[0] << "\n"
      << daemon_->AllStderr();
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        absl::StatusOr<json> state = daemon_->State();
        return state.ok() && (*state)["publish"].value("spooled", "0") == "0";
      },
      absl::Seconds(60)));
}

TEST_F(PublishLossTest, CorruptSpoolTailIsReportedAndIntactMessagesDelivered) {
  constexpr size_t kMessages = 200;
  auto subscriber = StartSubscriber("loss-c", kMessages);
  ASSERT_NE(subscriber, nullptr);
  // The broker is down: every message stays in the spool, unacknowledged.
  ASSERT_TRUE(cloud_->StopBroker().ok());
  {
    PublishStream stream(daemon_->socket_path(), "loss-c");
    for (size_t seq = 0; seq < kMessages; ++seq) {
      ASSERT_TRUE(stream.Send(seq, cloudlink::v1::DELIVERY_LEVEL_DURABLE));
    }
    EXPECT_TRUE(stream.Finish().ok());
    EXPECT_EQ(stream.acked(), kMessages);
  }
  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string segment = LastSegment();
  ASSERT_FALSE(segment.empty());
  {
    // Flip a byte inside the last record's payload.
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    char c;
    f.get(c);
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(c ^ 0x20));
  }
  const int subscribed = subscriber->subscriptions();
  ASSERT_TRUE(cloud_->StartBroker().ok());
  ASSERT_TRUE(
      subscriber->WaitSubscribedMoreThan(subscribed, absl::Seconds(30)));
  ASSERT_TRUE(daemon_->Restart(options_).ok());
  ASSERT_TRUE(WaitOnline(absl::Seconds(60)));
  std::vector<size_t> intact;
  for (size_t seq = 0; seq + 1 < kMessages; ++seq) intact.push_back(seq);
  std::vector<size_t> missing;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        missing = subscriber->Missing(intact);
        return missing.empty();
      },
      absl::Seconds(60)))
      << missing.size() << " intact messages never arrived";
  EXPECT_FALSE(subscriber->Seen(kMessages - 1));  // the corrupt one
  const std::string log = daemon_->Stderr();
  EXPECT_NE(log.find("SPOOL: "), std::string::npos) << log;
  EXPECT_NE(log.find("CRC does not match"), std::string::npos) << log;
  absl::StatusOr<json> state = daemon_->State();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)["publish"].value("spool_corrupt", "0"), "1")
      << state->dump();
}

}  // namespace
}  // namespace cloudlink::integration

#pragma once

// Test clients of the publish path, shared by the publish integration tests:
//   Subscriber     an independent subscriber (MqttTestClient) on the dev
//                  cloud's plain broker listener (as the broker admin),
//                  recording sequence numbers of payloads "<tag>:<seq>";
//   PublishStream  one Publish RPC stream to cloudlinkd (gRPC C++ client).
// Not copyable; each is used from the test thread (callbacks run on their
// own threads and are synchronized inside).

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "server/common/mutex.h"
#include "tests/integration/fixtures/mqtt_test_client.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {

// Subscribes (QoS 1) to everything the node publishes and records the
// sequence numbers of payloads "<tag>:<seq>". Reconnects by itself and
// subscribes again (MqttTestClient), counting its subscriptions, so a test can
// wait until it is back after a broker restart.
class Subscriber {
 public:
  Subscriber(std::string tag, size_t expected)
      : tag_(std::move(tag)), seen_(expected, false) {}

  // Connects as `user` and subscribes to node `claim_id`'s topics; true once
  // the broker granted the subscription.
  bool Start(int port, const std::string& user, const std::string& password,
             const std::string& claim_id) {
    MqttTestClient::Options options;
    options.username = user;
    options.password = password;
    // A persistent session (fixed id, clean_session false): across a broker
    // restart the broker keeps what it acknowledged to the node for us.
    options.client_id =
        absl::StrCat("loss-sub-", claim_id.substr(0, 8), "-",
                     reinterpret_cast<uintptr_t>(this) % 1000000);
    options.clean_session = false;
    options.protocol_version = 4;
    options.on_message = [this](const MqttTestClient::Message& message) {
      OnMessage(message);
    };
    client_ = std::make_unique<MqttTestClient>(std::move(options));
    if (client_->Connect(port) != 0) return false;
    const int granted =
        client_->Subscribe(absl::StrCat("/agent/", claim_id, "/outbound/#"));
    return granted >= 0 && granted <= 2;
  }

  int subscriptions() { return client_ != nullptr ? client_->subacks() : 0; }
  bool WaitSubscribedMoreThan(int n, absl::Duration timeout) {
    return testing::WaitFor([&] { return subscriptions() > n; }, timeout);
  }
  size_t distinct() {
    MutexLock lock(&mu_);
    return distinct_;
  }
  // MQTT topics the tagged messages arrived on.
  std::set<std::string> topics() {
    MutexLock lock(&mu_);
    return topics_;
  }
  uint64_t received() {
    MutexLock lock(&mu_);
    return received_;
  }
  bool Seen(size_t seq) {
    MutexLock lock(&mu_);
    return seq < seen_.size() && seen_[seq];
  }
  // Sequence numbers in `wanted` not seen yet.
  std::vector<size_t> Missing(const std::vector<size_t>& wanted) {
    MutexLock lock(&mu_);
    std::vector<size_t> missing;
    for (size_t seq : wanted) {
      if (seq >= seen_.size() || !seen_[seq]) missing.push_back(seq);
    }
    return missing;
  }

 private:
  void OnMessage(const MqttTestClient::Message& message) {
    absl::string_view payload = message.payload;
    if (!absl::ConsumePrefix(&payload, tag_ + ":")) return;
    size_t seq = 0;
    if (!absl::SimpleAtoi(payload, &seq)) return;
    MutexLock lock(&mu_);
    ++received_;
    topics_.insert(message.topic);
    if (seq < seen_.size() && !seen_[seq]) {
      seen_[seq] = true;
      ++distinct_;
    }
  }

  const std::string tag_;
  Mutex mu_;
  std::vector<bool> seen_ ABSL_GUARDED_BY(mu_);
  size_t distinct_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> topics_ ABSL_GUARDED_BY(mu_);
  // Last: destroyed (stopping its callbacks) before what they touch.
  std::unique_ptr<MqttTestClient> client_;
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
        MutexLock lock(&mu_);
        if (ack.code() == 0) {
          acked_.push_back(ack.id());
        } else {
          ++errors_;
          if (first_error_.empty()) first_error_ = ack.message();
          failures_[ack.id()] = absl::StrCat(ack.code(), " ", ack.message());
        }
      }
      MutexLock lock(&mu_);
      reader_done_ = true;
    });
  }
  ~PublishStream() {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  bool Send(uint64_t seq, cloudlink::v1::DeliveryLevel level,
            const std::string& topic = "node-instance-info") {
    cloudlink::v1::PublishRequest request;
    request.set_id(seq);
    request.set_topic(topic);
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
    MutexLock lock(&mu_);
    return acked_.size();
  }
  // Acks with a non-zero code, by request id: "CODE REASON: sentence".
  std::map<uint64_t, std::string> failures() {
    MutexLock lock(&mu_);
    return failures_;
  }
  std::vector<size_t> acked_ids() {
    MutexLock lock(&mu_);
    return std::vector<size_t>(acked_.begin(), acked_.end());
  }
  uint64_t errors() {
    MutexLock lock(&mu_);
    return errors_;
  }
  std::string first_error() {
    MutexLock lock(&mu_);
    return first_error_;
  }
  bool reader_done() {
    MutexLock lock(&mu_);
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
  Mutex mu_;
  std::vector<uint64_t> acked_ ABSL_GUARDED_BY(mu_);
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::string> failures_ ABSL_GUARDED_BY(mu_);
  std::string first_error_ ABSL_GUARDED_BY(mu_);
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cloudlink::integration

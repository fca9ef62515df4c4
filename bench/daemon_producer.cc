// One producer run of the daemon-path benchmark (bench/daemon_bench.py
// starts cloudlinkd and the dev cloud and measures cloudlinkd around it):
//
//   daemon_producer producer --socket PATH --count N --payload BYTES
//                            --qos 0|1 [--rate MSGS_PER_S] [--window W]
//   daemon_producer paho --url wss://... --ca FILE --user U --password P
//                        --topic T --count N --payload BYTES --qos 0|1
//                        [--rate MSGS_PER_S]
//
// `producer` publishes through cloudlinkd with the producer library
// (client/producer.h); `paho` publishes to the same broker with Paho C
// (bench/paho_publisher.h), as the dev cloud's admin. --rate 0 (default):
// back to back; otherwise a steady, evenly spaced rate (Pace). Prints one
// JSON object: messages, seconds, this process's CPU seconds and context
// switches (getrusage, all threads).

#include <grpc/grpc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/paho_publisher.h"
#include "client/producer.h"

ABSL_FLAG(std::string, socket, "",
          "producer: cloudlinkd's API socket (the Publish RPC over gRPC)");
ABSL_FLAG(std::string, publish_socket, "",
          "producer: cloudlinkd's publish socket (used instead of --socket)");
ABSL_FLAG(std::string, url, "", "paho: the broker's wss:// URL");
ABSL_FLAG(std::string, ca, "", "paho: the CA file that verifies the broker");
ABSL_FLAG(std::string, user, "", "paho: the broker user");
ABSL_FLAG(std::string, password, "", "paho: the broker password");
ABSL_FLAG(std::string, topic, "",
          "the topic (producer: a cloud topic name, default "
          "node-instance-info; paho: the MQTT topic)");
ABSL_FLAG(int, count, 0, "messages to publish");
ABSL_FLAG(int, payload, 0, "payload bytes per message");
ABSL_FLAG(int, qos, 1, "0 or 1");
ABSL_FLAG(int, rate, 0, "messages per second; 0: back to back");
ABSL_FLAG(int, window, 1024, "producer: messages outstanding at most");

namespace cloudlink::bench {
namespace {

struct Usage {
  double cpu_s = 0;
  long switches = 0;
};

Usage Self() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  Usage usage;
  usage.cpu_s = u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 +
                u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
  usage.switches = u.ru_nvcsw + u.ru_nivcsw;
  return usage;
}

// Calls `send(k)` for k messages per tick, or once for all when `rate` is
// 0; returns false when a send failed.
template <typename Send>
bool Pace(int count, int rate, Send send) {
  if (rate <= 0) return send(count);
  // Evenly spaced: one message per tick up to 1,000 msgs/s (200/s is one
  // every 5 ms), then 1 ms ticks of rate / 1000 messages.
  const absl::Duration tick =
      std::max(absl::Seconds(1) / rate, absl::Milliseconds(1));
  const double per_tick = rate * absl::ToDoubleSeconds(tick);
  double owed = 0;
  int sent = 0;
  absl::Time next = absl::Now();
  while (sent < count) {
    owed += per_tick;
    const int k = std::min(count - sent, static_cast<int>(owed));
    owed -= k;
    if (k > 0 && !send(k)) return false;
    sent += k;
    next += tick;
    absl::SleepFor(next - absl::Now());
  }
  return true;
}

int Run(const std::string& mode) {
  const int count = absl::GetFlag(FLAGS_count);
  const int payload_size = absl::GetFlag(FLAGS_payload);
  const int qos = absl::GetFlag(FLAGS_qos);
  const int rate = absl::GetFlag(FLAGS_rate);
  const int window = absl::GetFlag(FLAGS_window);
  const std::string payload(payload_size, 'p');
  const Usage before = Self();
  const absl::Time start = absl::Now();
  // The run ends with the last ack, before the client is torn down: with
  // gRPC 1.51 a channel's last reference can wait up to 10 s in
  // grpc_shutdown() for the TCP backup poller (main keeps gRPC initialised
  // so that exit does not wait either).
  absl::Time end = start;
  Usage after = before;
  auto finished = [&] {
    end = absl::Now();
    after = Self();
  };
  std::string error;
  int failed = 0;
  if (mode == "producer") {
    client::ProducerOptions options;
    options.window = window;
    options.wait_when_full = true;
    const std::string publish_socket = absl::GetFlag(FLAGS_publish_socket);
    auto producer =
        publish_socket.empty()
            ? client::Producer::Open(
                  grpc::CreateChannel("unix:" + absl::GetFlag(FLAGS_socket),
                                      grpc::InsecureChannelCredentials()),
                  options)
            : client::Producer::OpenSocket(publish_socket, options);
    const auto level = qos == 0 ? cloudlink::v1::DELIVERY_LEVEL_AT_MOST_ONCE
                                : cloudlink::v1::DELIVERY_LEVEL_AT_LEAST_ONCE;
    const std::string topic = absl::GetFlag(FLAGS_topic).empty()
                                  ? "node-instance-info"
                                  : absl::GetFlag(FLAGS_topic);
    Pace(count, rate, [&](int k) {
      for (int i = 0; i < k; ++i) {
        absl::StatusOr<uint64_t> id =
            producer->Publish(topic, payload, level, absl::Seconds(60));
        if (!id.ok()) {
          error = id.status().ToString();
          return false;
        }
      }
      return true;
    });
    absl::Status closed = producer->Close(absl::Seconds(120));
    finished();
    if (!closed.ok() && error.empty()) error = closed.ToString();
    for (const client::ProducerAck& ack : producer->TakeAcks()) {
      if (!ack.status.ok()) ++failed;
    }
  } else {
    auto paho = PahoPublisher::Connect(
        absl::GetFlag(FLAGS_url), absl::GetFlag(FLAGS_ca),
        absl::StrCat("bench-paho-", getpid()), absl::GetFlag(FLAGS_topic),
        absl::Seconds(20), absl::GetFlag(FLAGS_user),
        absl::GetFlag(FLAGS_password));
    if (!paho.ok()) {
      error = paho.status().ToString();
    } else {
      // As the producer library: messages go out at the rate, acks come
      // when they come (waiting for each tick's acks would cap the rate at
      // Paho's round trip), and the run ends when all are complete.
      const bool paced = Pace(count, rate, [&](int k) {
        absl::Status sent =
            (*paho)->SendMessages(k, payload, qos, absl::Seconds(120));
        if (!sent.ok()) error = sent.ToString();
        return sent.ok();
      });
      if (paced) {
        absl::Status done = (*paho)->AwaitCompletion(qos, absl::Seconds(120));
        if (!done.ok()) error = done.ToString();
      }
    }
    finished();
  }
  const double seconds = absl::ToDoubleSeconds(end - start);
  for (char& c : error) {
    if (c == '"' || c == '\\') c = '\'';
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  std::printf(
      "{\"messages\": %d, \"seconds\": %.6f, \"cpu_s\": %.6f, "
      "\"switches\": %ld, \"failed\": %d, \"error\": \"%s\"}\n",
      count, seconds, after.cpu_s - before.cpu_s,
      after.switches - before.switches, failed, error.c_str());
  return error.empty() && failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cloudlink::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "daemon_producer producer|paho --flag=value... (see the file's top)");
  // Unknown flags are refused by ParseCommandLine.
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() != 2 || (std::string(positional[1]) != "producer" &&
                                 std::string(positional[1]) != "paho")) {
    std::fprintf(stderr,
                 "usage: daemon_producer producer|paho --flag value...\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_count) <= 0 || absl::GetFlag(FLAGS_payload) < 0) {
    std::fprintf(stderr, "daemon_producer: --count must be > 0\n");
    return 2;
  }
  // Held for the process's life: the channel's destructor then does not
  // run gRPC's shutdown, which in gRPC 1.51 can wait up to 10 s for the TCP
  // backup poller to time out.
  grpc_init();
  return cloudlink::bench::Run(positional[1]);
}

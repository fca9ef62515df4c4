// End to end: publishing to a real mosquitto over WSS (TLS 1.3,
// AES-128-GCM) on loopback, our link path against Paho C, same workload.
//
//   E2E/<client>/qos<0|1>/<payload bytes>
//     client  session  MqttSession over WssConnection (lws) on one thread,
//                      the code the link runs (bench/session_publisher.h)
//             session_halfwin  the same, but the producer refills the QoS 1
//                      window only when half of it is free (QoS 1 only)
//             paho     Paho C asynchronous client, wss://, MQTT 5
//                      (bench/paho_publisher.h)
//
// Each repetition connects a fresh client, publishes a warm-up batch, then
// times whole batches (bench/bench_publisher.h says when a batch is complete:
// QoS 1 by PUBACKs). Counters:
//   msgs_per_s             messages per second (wall time)
//   bytes_per_second       payload bytes per second
//   cpu_s_per_100k         CPU seconds of this process (all threads,
//                          getrusage) per 100 000 messages
//   broker_cpu_s_per_100k  CPU seconds of mosquitto per 100 000 messages
//   peak_rss_MiB           ru_maxrss of this process so far: run one
//                          benchmark per process for a per-client peak
//   window                 QoS 1 messages in flight (Receive Maximum)
//
// Run one benchmark per process (bench/run does):
//   e2e_bench --benchmark_filter='^E2E/session/qos1/1024$'
//       --benchmark_repetitions=5
// Flags of its own (the ABSL_FLAGs below; before or among the benchmark
// flags): --mosquitto=PATH, --batch_scale=X.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_broker.h"
#include "bench/bench_publisher.h"
#include "bench/paho_publisher.h"
#include "bench/process_usage.h"
#include "bench/session_publisher.h"

ABSL_FLAG(std::string, mosquitto, "",
          "the broker binary (empty: BenchBrokerOptions' default, "
          "/usr/sbin/mosquitto)");
ABSL_FLAG(double, batch_scale, 1,
          "multiplies the batch sizes (< 1 for profiling)");

namespace cloudlink::bench {
namespace {

constexpr char kTopic[] = "/agent/bench/outbound/v1/x";
constexpr absl::Duration kConnectTimeout = absl::Seconds(10);
constexpr absl::Duration kBatchTimeout = absl::Seconds(60);

enum class Client { kSession, kSessionHalfWindow, kPaho };

const char* ClientName(Client client) {
  switch (client) {
    case Client::kSession:
      return "session";
    case Client::kSessionHalfWindow:
      return "session_halfwin";
    case Client::kPaho:
      return "paho";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<BenchPublisher>> ConnectClient(
    Client client, const BenchBroker& broker) {
  // Distinct across repetitions, so a late will or session never collides.
  const std::string client_id = absl::StrCat("bench-", ClientName(client), "-",
                                             absl::ToUnixNanos(absl::Now()));
  if (client != Client::kPaho) {
    auto publisher = SessionPublisher::Connect(
        broker.wss_url(), broker.ca_file(), client_id, kTopic,
        client == Client::kSession ? RefillPolicy::kEveryAck
                                   : RefillPolicy::kHalfWindow,
        kConnectTimeout);
    if (!publisher.ok()) return publisher.status();
    return std::unique_ptr<BenchPublisher>(std::move(*publisher));
  }
  auto publisher = PahoPublisher::Connect(broker.wss_url(), broker.ca_file(),
                                          client_id, kTopic, kConnectTimeout);
  if (!publisher.ok()) return publisher.status();
  return std::unique_ptr<BenchPublisher>(std::move(*publisher));
}

// Messages per timed batch. QoS 1: about 5 MB or 5000 messages, whichever
// is fewer. QoS 0: about 20 MB or 50 000 messages, so that the wait for the
// marker's PUBACK (mosquitto's websockets side answers it only at its next
// loop pass, up to ~100 ms later) is a small part of the batch.
int BatchSize(int qos, size_t payload_size, double scale) {
  const size_t max_bytes = qos > 0 ? size_t{5} << 20 : size_t{20} << 20;
  const size_t max_messages = qos > 0 ? 5000 : 50000;
  const double batch =
      static_cast<double>(std::min(max_messages, max_bytes / payload_size)) *
      scale;
  return std::max(20, static_cast<int>(batch));
}

struct E2eCase {
  Client client;
  int qos;
  size_t payload_size;
};

void RunE2e(benchmark::State& state, const BenchBroker* broker, E2eCase c,
            double batch_scale) {
  const std::string payload(c.payload_size, 'p');
  const int batch = BatchSize(c.qos, c.payload_size, batch_scale);
  absl::StatusOr<std::unique_ptr<BenchPublisher>> publisher =
      ConnectClient(c.client, *broker);
  if (!publisher.ok()) {
    state.SkipWithError(publisher.status().ToString().c_str());
    return;
  }
  absl::Status warm = (*publisher)
                          ->PublishBatch(std::max(20, batch / 5), payload,
                                         c.qos, kBatchTimeout);
  if (!warm.ok()) {
    state.SkipWithError(warm.ToString().c_str());
    return;
  }
  const double cpu_before = SelfCpuSeconds();
  const double broker_before = ProcessCpuSeconds(broker->pid());
  int64_t messages = 0;
  for (auto _ : state) {
    absl::Status done =
        (*publisher)->PublishBatch(batch, payload, c.qos, kBatchTimeout);
    if (!done.ok()) {
      state.SkipWithError(done.ToString().c_str());
      return;
    }
    messages += batch;
  }
  const double cpu = SelfCpuSeconds() - cpu_before;
  const double broker_cpu = ProcessCpuSeconds(broker->pid()) - broker_before;
  const double per_100k =
      messages > 0 ? 1e5 / static_cast<double>(messages) : 0;
  state.SetBytesProcessed(messages * static_cast<int64_t>(c.payload_size));
  state.counters["msgs_per_s"] = benchmark::Counter(
      static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_100k"] = cpu * per_100k;
  state.counters["broker_cpu_s_per_100k"] = broker_cpu * per_100k;
  state.counters["peak_rss_MiB"] = SelfPeakRssMiB();
  state.counters["window"] = (*publisher)->window();
  state.counters["batch"] = batch;
}

int Main(int argc, char** argv) {
  // The peer client would honour a proxy from the environment.
  for (const char* name :
       {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) {
    unsetenv(name);
  }
  // The benchmark library takes its --benchmark_* flags out of argv first;
  // Abseil parses the rest and refuses unknown flags.
  benchmark::Initialize(&argc, argv);
  absl::ParseCommandLine(argc, argv);
  BenchBrokerOptions options;
  if (!absl::GetFlag(FLAGS_mosquitto).empty()) {
    options.mosquitto_path = absl::GetFlag(FLAGS_mosquitto);
  }
  const double batch_scale = absl::GetFlag(FLAGS_batch_scale);
  if (batch_scale <= 0) {
    std::fprintf(stderr, "--batch_scale must be > 0\n");
    return 2;
  }

  char dir_template[] = "/tmp/clbench.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = dir_template;
  options.dir = dir;
  int exit_code = 0;
  {
    absl::StatusOr<std::unique_ptr<BenchBroker>> broker =
        BenchBroker::Start(options);
    if (!broker.ok()) {
      std::fprintf(stderr, "%s\n", broker.status().ToString().c_str());
      exit_code = 1;
    } else {
      const BenchBroker* b = broker->get();
      for (Client client :
           {Client::kSession, Client::kSessionHalfWindow, Client::kPaho}) {
        for (int qos : {0, 1}) {
          if (client == Client::kSessionHalfWindow && qos == 0) continue;
          for (size_t size : {size_t{64}, size_t{1024}, size_t{16384}}) {
            const E2eCase c{client, qos, size};
            benchmark::RegisterBenchmark(
                absl::StrCat("E2E/", ClientName(client), "/qos", qos, "/", size)
                    .c_str(),
                [b, c, batch_scale](benchmark::State& state) {
                  RunE2e(state, b, c, batch_scale);
                })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond)
                ->MinTime(2.0);
          }
        }
      }
      benchmark::RunSpecifiedBenchmarks();
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  benchmark::Shutdown();
  return exit_code;
}

}  // namespace
}  // namespace cloudlink::bench

int main(int argc, char** argv) { return cloudlink::bench::Main(argc, argv); }

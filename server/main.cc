// cloudlinkd: runs the cloud link of this node and serves the CloudLink API
// on a Unix socket. Flags: the ABSL_FLAGs below (cloudlinkd --help;
// docs/operating.md).

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/api/allowed_subjects.h"
#include "server/api/api_server.h"
#include "server/api/authorizer.h"
#include "server/api/cloudlink_service.h"
#include "server/api/remote_listener.h"
#include "server/api/unix_peer_registry.h"
#include "server/api/unix_socket.h"
#include "server/common/command_line.h"
#include "server/common/deadline_runner.h"
#include "server/common/grpc_log.h"
#include "server/common/log.h"
#include "server/common/process_hygiene.h"
#include "server/common/signals.h"
#include "server/config/environment.h"
#include "server/http/curl_http_client.h"
#include "server/link/takeover_guard.h"
#include "server/node/node_controller.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "server/publish/spool.h"
#include "server/publish_socket/server.h"
#include "server/state/dir_safety.h"
#include "server/state/file_system.h"
#include "server/state/instance_lock.h"
#include "server/test_flags.h"
#include "server/transport/lws_wss_connection.h"
#include "server/web/listen_address.h"
#include "server/web/local_endpoint.h"

ABSL_FLAG(std::string, socket, "/run/cloudlink/cloudlink.sock",
          "the API's Unix socket");
ABSL_FLAG(std::string, publish_socket, "",
          "the publish socket: the Publish stream without gRPC, for local "
          "producers (client/producer.h); empty: publish.sock beside "
          "--socket; \"off\": none");
ABSL_FLAG(std::string, config_dir, "/etc/cloudlink", "holds claim.conf");
ABSL_FLAG(std::string, lib_dir, "/var/lib/cloudlink",
          "holds registry/ and cloud.d/");
ABSL_FLAG(std::string, cloud_ca, "",
          "a file of extra CA certificates (PEM) trusted for the cloud");
ABSL_FLAG(cloudlink::LogLevel, log_level, cloudlink::LogLevel::kInfo,
          "debug, info, warning or error");
ABSL_FLAG(std::string, log_file, "",
          "append the log to this file instead of stderr (reopened on "
          "SIGHUP, for log rotation)");
ABSL_FLAG(bool, allow_core_dumps, false,
          "keep the process's core dump settings; by default cloudlinkd makes "
          "no core dumps, which would hold its private key and MQTT password");
ABSL_FLAG(cloudlink::SchedulingPolicy, scheduling_policy,
          cloudlink::SchedulingPolicy::kBatch,
          "the Linux scheduling policy of cloudlinkd's threads: batch (a "
          "thread that wakes does not preempt a running one), other, idle, or "
          "keep the one it was started with");
ABSL_FLAG(uint64_t, queue_bytes, uint64_t{64} << 20,
          "bound of the publish memory queue in bytes, a positive number "
          "(default 64 MiB)");
ABSL_FLAG(uint64_t, spool_bytes, uint64_t{256} << 20,
          "bound of the durable spool cloud.d/spool/ in bytes, a positive "
          "number (default 256 MiB)");
ABSL_FLAG(std::string, admin_group, "cloudlink",
          "group whose members may claim, reclaim, reload and publish (root "
          "always may); owns the socket. If the group is missing: only root");
ABSL_FLAG(std::string, publisher_group, "",
          "group whose members may publish and read state, nothing else "
          "(default: none)");
ABSL_FLAG(std::string, listen, "",
          "remote API: also serve the API on this TCP ADDRESS:PORT (mutual "
          "TLS; needs --tls-cert, --tls-key, --tls-client-ca and "
          "--tls-allowed-subjects)");
ABSL_FLAG(std::string, tls_cert, "",
          "remote API: the server certificate chain (PEM file)");
ABSL_FLAG(std::string, tls_key, "",
          "remote API: the server certificate's private key (PEM file)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "remote API: CA certificates (PEM file) client certificates must "
          "chain to");
ABSL_FLAG(std::string, tls_allowed_subjects, "",
          "remote API: a file of lines \"admin SUBJECT\", \"publish SUBJECT\" "
          "or \"read SUBJECT\" (a certificate DN or common name)");
ABSL_FLAG(std::string, tls_crl, "",
          "remote API: a file of CRLs (PEM) revoking client certificates; "
          "optional, re-read on reload");
ABSL_FLAG(int, listen_max_connections, 128,
          "remote API: connections open at once, handshaking or not");
ABSL_FLAG(int, listen_max_connections_per_address, 16,
          "remote API: connections open at once from one source address");
ABSL_FLAG(absl::Duration, tls_handshake_timeout, absl::Seconds(10),
          "remote API: a connection's TLS handshake must end within this");
ABSL_FLAG(absl::Duration, api_idle_timeout, absl::Minutes(5),
          "both listeners: a connection without a call for this long is "
          "closed");
ABSL_FLAG(absl::Duration, api_idle_stop, absl::Seconds(10),
          "both listeners: gRPC stops (and its threads end) once no API "
          "connection has been open for this long, and starts again for the "
          "next one; 0 keeps it running");
ABSL_FLAG(int, socket_max_connections_per_uid, 64,
          "Unix socket: connections open at once by one uid (root: no cap)");
ABSL_FLAG(int, socket_max_connections, 512,
          "Unix socket: connections open at once by all uids but root");
ABSL_FLAG(int, api_max_streams_per_connection, 16,
          "open streams (watch-state, publish, reflection) on one connection");
ABSL_FLAG(int, api_max_streams_per_caller, 32,
          "open streams of one caller (a uid or a certificate); root: no cap");
ABSL_FLAG(int, api_max_streams, 64,
          "open streams of all callers but root together");
ABSL_FLAG(int, api_max_threads, 128,
          "the most threads the API's gRPC server may use");
ABSL_FLAG(std::string, http_listen, cloudlink::web::kDefaultHttpListen,
          "the local page and /api/v3 (docs/web.md) on this ADDRESS:PORT; "
          "\"\" turns them off. A non-loopback address also needs "
          "--http-allow-remote");
ABSL_FLAG(bool, http_allow_remote, false,
          "let --http-listen be a non-loopback address (the page can claim "
          "this node)");

namespace {

constexpr char kUsage[] =
    "connects this node to its cloud and serves the CloudLink API.\n"
    "\n"
    "Usage: cloudlinkd [--flag=value ...]\n"
    "\n"
    "The remote API (--listen) is optional and mutual TLS only: give the\n"
    "--listen and --tls-* flags all together.";

// One thing SIGHUP re-reads. Each part that can be re-read adds a step in
// main() below; a step logs its own details and returns what failed.
struct ReloadStep {
  const char* what;
  std::function<absl::Status()> run;
};

// Runs every step in order, also after a failed one, and logs the outcome.
void Reload(const std::vector<ReloadStep>& steps) {
  std::string names;
  for (const ReloadStep& step : steps) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", step.what);
  }
  cloudlink::LogInfo(absl::StrCat("cloudlinkd: SIGHUP, reloading: ", names));
  for (const ReloadStep& step : steps) {
    const absl::Status status = step.run();
    if (!status.ok()) {
      cloudlink::LogError(absl::StrCat("cloudlinkd: reloading ", step.what,
                                       " failed: ", status.message()));
    }
  }
  cloudlink::LogInfo("cloudlinkd: reloaded");
}

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil checks every absl::Mutex lock (gRPC's) for deadlock
  // cycles under one global lock: ~1 % of the daemon's CPU at a steady
  // publish rate, and contention between gRPC's threads. Our own locks are
  // cloudlink::Mutex (TSan sees those).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  cloudlink::ParseCommandLineOrExit(argc, argv,
                                    {"cloudlinkd", "server/main.cc", kUsage});
  const uint64_t queue_bytes = absl::GetFlag(FLAGS_queue_bytes);
  const uint64_t spool_bytes = absl::GetFlag(FLAGS_spool_bytes);
  if (queue_bytes == 0) {
    cloudlink::ExitWithFlagError("queue-bytes", "must be a positive number");
  }
  if (spool_bytes == 0) {
    cloudlink::ExitWithFlagError("spool-bytes", "must be a positive number");
  }
  const std::string admin_group = absl::GetFlag(FLAGS_admin_group);
  if (admin_group.empty()) {
    cloudlink::ExitWithFlagError("admin-group", "needs a group name");
  }
  cloudlink::api::RemoteListenerFlags remote;
  remote.listen = absl::GetFlag(FLAGS_listen);
  remote.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  remote.tls_key = absl::GetFlag(FLAGS_tls_key);
  remote.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  remote.allowed_subjects = absl::GetFlag(FLAGS_tls_allowed_subjects);
  remote.tls_crl = absl::GetFlag(FLAGS_tls_crl);
  absl::Status remote_flags = cloudlink::api::CheckRemoteListenerFlags(remote);
  if (!remote_flags.ok()) {
    fprintf(stderr, "cloudlinkd: %s\n",
            std::string(remote_flags.message()).c_str());
    return 2;
  }
  absl::optional<cloudlink::web::ListenAddress> http_address;
  if (!absl::GetFlag(FLAGS_http_listen).empty()) {
    auto parsed = cloudlink::web::ParseListenAddress(
        absl::GetFlag(FLAGS_http_listen),
        absl::GetFlag(FLAGS_http_allow_remote));
    if (!parsed.ok()) {
      cloudlink::ExitWithFlagError("http-listen", parsed.status().message());
    }
    http_address = *parsed;
  }
  cloudlink::SetLogLevel(absl::GetFlag(FLAGS_log_level));
  // The daemon works from "/" (process hygiene below): paths given relative
  // to where it was started are made absolute first.
  const std::string log_file =
      cloudlink::AbsolutePath(absl::GetFlag(FLAGS_log_file));
  if (!log_file.empty()) {
    absl::Status opened = cloudlink::SetLogFile(log_file);
    if (!opened.ok()) {
      fprintf(stderr, "cloudlinkd: --log-file: %s\n",
              std::string(opened.message()).c_str());
      return 1;
    }
  }
  cloudlink::RouteGrpcLogsToOurLog();
  const std::string socket_path = absl::GetFlag(FLAGS_socket);
  std::string publish_socket_path = absl::GetFlag(FLAGS_publish_socket);
  if (publish_socket_path.empty()) {
    const size_t slash = socket_path.rfind('/');
    publish_socket_path =
        (slash == std::string::npos ? std::string(".")
                                    : socket_path.substr(0, slash)) +
        "/publish.sock";
  } else if (publish_socket_path == "off") {
    publish_socket_path.clear();
  }
  const std::string config_dir =
      cloudlink::AbsolutePath(absl::GetFlag(FLAGS_config_dir));
  const std::string lib_dir =
      cloudlink::AbsolutePath(absl::GetFlag(FLAGS_lib_dir));
  for (std::string* file : {&remote.tls_cert, &remote.tls_key,
                            &remote.tls_client_ca, &remote.allowed_subjects}) {
    *file = cloudlink::AbsolutePath(*file);
  }

  // Before any thread starts (signals.h). SIGTERM and SIGINT stop, SIGHUP
  // reloads.
  const cloudlink::BlockedSignals signals({SIGTERM, SIGINT, SIGHUP});

  cloudlink::HygieneOptions hygiene;
  hygiene.allow_core_dumps = absl::GetFlag(FLAGS_allow_core_dumps);
  hygiene.scheduling_policy = absl::GetFlag(FLAGS_scheduling_policy);
  for (const cloudlink::HygieneStep& step :
       cloudlink::ApplyProcessHygiene(hygiene)) {
    cloudlink::Log(
        step.ok ? cloudlink::LogLevel::kInfo : cloudlink::LogLevel::kWarning,
        absl::StrCat("cloudlinkd: ", step.text));
  }

  // One daemon per lib dir, decided before anything is created or changed
  // (the spool, the socket, the machine GUID): a refused daemon leaves no
  // trace.
  absl::StatusOr<cloudlink::state::InstanceLock> instance_lock =
      cloudlink::state::InstanceLock::Acquire(lib_dir);
  if (!instance_lock.ok()) {
    cloudlink::LogError(
        absl::StrCat("cloudlinkd: ", instance_lock.status().message()));
    return 1;
  }

  cloudlink::state::PosixFileSystem fs;
  cloudlink::node::NodeOptions options;
  options.config_dir = config_dir;
  options.lib_dir = lib_dir;
  options.cloud_ca = cloudlink::AbsolutePath(absl::GetFlag(FLAGS_cloud_ca));
  options.env = cloudlink::config::ProcessEnvironment();
  // Proxy decisions are ours alone: no library may read these behind our
  // back (libwebsockets reads http_proxy when no proxy is set). The values
  // stay available to the "env" proxy setting in options.env.
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY",
                           "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    unsetenv(name);
  }
  options.hostname = HostName();
  if (!absl::GetFlag(FLAGS_test_takeover_guard).empty()) {
    auto takeover = cloudlink::link::TakeoverGuard::ParseParams(
        absl::GetFlag(FLAGS_test_takeover_guard));
    if (!takeover.ok()) {
      cloudlink::ExitWithFlagError("test-takeover-guard",
                                   takeover.status().message());
    }
    options.takeover = *takeover;
  }

  cloudlink::LogInfo(absl::StrCat("cloudlinkd starting: config ", config_dir,
                                  ", lib ", lib_dir));
  // Nothing is read from a directory another user could have changed.
  absl::Status dirs_safe =
      cloudlink::state::CheckStateDirsSafe(config_dir, lib_dir);
  if (!dirs_safe.ok()) {
    cloudlink::LogError(absl::StrCat("cloudlinkd: ", dirs_safe.message()));
    return 1;
  }
  // The publish path. Without a usable spool the daemon still runs; DURABLE
  // publishes are then refused (SPOOL_UNAVAILABLE).
  cloudlink::publish::QueueOptions queue_options;
  queue_options.max_bytes = queue_bytes;
  cloudlink::publish::PublishQueue queue(queue_options);
  cloudlink::publish::SpoolOptions spool_options;
  spool_options.dir = lib_dir + "/cloud.d/spool";
  spool_options.max_bytes = spool_bytes;
  spool_options.segment_bytes =
      std::min<size_t>(spool_options.segment_bytes, spool_bytes / 4 + 1);
  auto spool = cloudlink::publish::Spool::Open(spool_options);
  if (!spool.ok()) {
    cloudlink::LogError(absl::StrCat("SPOOL: ", spool.status().message(),
                                     "; durable publishing is off"));
  }
  // A spool opened by a later reload (below); outlives the publisher.
  std::unique_ptr<cloudlink::publish::Spool> late_spool;
  cloudlink::publish::Publisher publisher(&queue,
                                          spool.ok() ? spool->get() : nullptr);
  options.publisher = &publisher;
  options.open_spool = [&late_spool,
                        spool_options]() -> cloudlink::publish::Spool* {
    auto opened = cloudlink::publish::Spool::Open(spool_options);
    if (!opened.ok()) {
      cloudlink::LogError(absl::StrCat("SPOOL: ", opened.status().message(),
                                       "; durable publishing stays off"));
      return nullptr;
    }
    late_spool = *std::move(opened);
    cloudlink::LogInfo("SPOOL: opened on reload; durable publishing is on");
    return late_spool.get();
  };

  cloudlink::http::CurlHttpClient http;
  cloudlink::transport::LwsWssConnector wss;
  cloudlink::node::NodeController node(options, &fs, &http, &wss);
  // Who may call what (server/api/authorizer.h). The remote listener's
  // files are read now, so a bad one stops the start with a clear error.
  cloudlink::api::ApiServerOptions api_options;
  api_options.socket_path = socket_path;
  cloudlink::api::AllowedSubjects allowed_subjects;
  if (!remote.listen.empty()) {
    auto credentials = cloudlink::api::LoadMutualTlsCredentials(remote);
    absl::StatusOr<cloudlink::api::AllowedSubjects> subjects =
        credentials.ok()
            ? cloudlink::api::AllowedSubjects::Load(remote.allowed_subjects)
            : credentials.status();
    if (!subjects.ok()) {
      cloudlink::LogError(absl::StrCat("API: ", subjects.status().message()));
      return 1;
    }
    allowed_subjects = *std::move(subjects);
    api_options.remote.address = remote.listen;
    api_options.remote_tls = *std::move(credentials);
  }
  api_options.remote.max_connections =
      std::max(1, absl::GetFlag(FLAGS_listen_max_connections));
  api_options.remote.max_connections_per_address =
      std::max(1, absl::GetFlag(FLAGS_listen_max_connections_per_address));
  api_options.remote.handshake_timeout =
      absl::GetFlag(FLAGS_tls_handshake_timeout);
  api_options.idle_timeout = absl::GetFlag(FLAGS_api_idle_timeout);
  api_options.idle_stop = absl::GetFlag(FLAGS_api_idle_stop);
  api_options.socket_max_connections_per_uid =
      std::max(1, absl::GetFlag(FLAGS_socket_max_connections_per_uid));
  api_options.socket_max_connections =
      std::max(1, absl::GetFlag(FLAGS_socket_max_connections));
  const cloudlink::api::UnixPolicy unix_policy =
      cloudlink::api::UnixPolicy::Resolve(admin_group,
                                          absl::GetFlag(FLAGS_publisher_group));
  api_options.socket_group = unix_policy.socket_gid;
  api_options.publisher_gid = unix_policy.publisher_gid;
  cloudlink::api::UnixPeerRegistry unix_peers;
  // Not const: ApiServer::ReloadRemoteFiles (for SIGHUP) replaces its
  // allowed subjects.
  cloudlink::api::Authorizer authorizer(
      unix_policy, std::move(allowed_subjects), &unix_peers);
  cloudlink::api::StreamCaps stream_caps;
  stream_caps.per_connection =
      std::max(1, absl::GetFlag(FLAGS_api_max_streams_per_connection));
  stream_caps.per_caller =
      std::max(1, absl::GetFlag(FLAGS_api_max_streams_per_caller));
  stream_caps.total = std::max(1, absl::GetFlag(FLAGS_api_max_streams));
  api_options.max_threads = std::max(8, absl::GetFlag(FLAGS_api_max_threads));
  cloudlink::api::CloudLinkService service(&node, &authorizer, &publisher,
                                           stream_caps);
  // The node's state is loaded before the API answers, so no client ever
  // sees a blank state (no machine GUID, "available" for a claimed node).
  // The socket is checked first, so a second daemon on the same socket
  // exits before it claims or connects anything.
  absl::Status socket_ready = cloudlink::api::PrepareSocketPath(socket_path);
  if (socket_ready.ok() && !publish_socket_path.empty()) {
    socket_ready = cloudlink::api::PrepareSocketPath(publish_socket_path);
  }
  if (!socket_ready.ok()) {
    cloudlink::LogError(absl::StrCat("API: ", socket_ready.message()));
    return 1;
  }
  // The thread that runs the API's shutdown, made now: a stop must not
  // need a thread the system may no longer give.
  absl::StatusOr<std::unique_ptr<cloudlink::DeadlineRunner>> stopper =
      cloudlink::DeadlineRunner::Start();
  if (!stopper.ok()) {
    cloudlink::LogError(
        absl::StrCat("cloudlinkd: ", stopper.status().message()));
    return 1;
  }
  node.Start();
  // The publish socket first: once the API socket answers, a producer finds
  // the publish socket in place too.
  std::unique_ptr<cloudlink::publish_socket::Server> publish_socket;
  if (!publish_socket_path.empty()) {
    cloudlink::publish_socket::ServerOptions publish_options;
    publish_options.path = publish_socket_path;
    publish_options.group = unix_policy.socket_gid;
    publish_options.extra_group = unix_policy.publisher_gid;
    publish_options.max_per_uid = api_options.socket_max_connections_per_uid;
    publish_options.max_not_root = api_options.socket_max_connections;
    auto started = cloudlink::publish_socket::Server::Start(
        publish_options, &publisher, &authorizer);
    if (!started.ok()) {
      cloudlink::LogError(
          absl::StrCat("PUBLISH: ", started.status().message()));
      node.Stop();
      return 1;
    }
    publish_socket = *std::move(started);
    // The link serves the socket on its own thread while it is connected
    // (lendable_loop.h). The server outlives the link's use: it is
    // destroyed after node.Stop(), and a stopped one lends nothing.
    publisher.AttachInputLoop(publish_socket.get());
  }
  auto server =
      cloudlink::api::ApiServer::Start(api_options, &service, &unix_peers);
  if (!server.ok()) {
    cloudlink::LogError(absl::StrCat("API: ", server.status().message()));
    if (publish_socket != nullptr) publish_socket->Stop();
    node.Stop();
    return 1;
  }
  // The local page is an extra: when it cannot start, the daemon runs on.
  std::unique_ptr<cloudlink::web::LocalEndpoint> local_page;
  if (http_address.has_value()) {
    auto endpoint = cloudlink::web::LocalEndpoint::Start(
        {*http_address, lib_dir,
         unix_policy.admin_gid.value_or(unix_policy.socket_gid)},
        &node, &fs);
    if (endpoint.ok()) {
      local_page = *std::move(endpoint);
    } else {
      cloudlink::LogError(absl::StrCat("HTTP: ", endpoint.status().message(),
                                       "; the local page is off"));
    }
  }

  // What SIGHUP re-reads, in this order (the log file first, so that the
  // reload's own lines land in the new file). Add a step for every part that
  // can be re-read.
  std::vector<ReloadStep> reload_steps;
  reload_steps.push_back(
      {"log file", [] { return cloudlink::ReopenLogFile(); }});
  reload_steps.push_back({"claiming state", [&node] {
                            // As the ReloadClaimingState call, without
                            // waiting: the outcome shows in the state.
                            node.ReloadClaimingState(absl::ZeroDuration());
                            return absl::OkStatus();
                          }});
  // The remote listener's certificate, key, CAs, CRL and allowed subjects;
  // a bad file keeps the old settings.
  reload_steps.push_back(
      {"remote listener files",
       [&] { return (*server)->ReloadRemoteFiles(remote, &authorizer); }});

  int sig = 0;
  while (true) {
    sig = signals.Wait();
    if (sig != SIGHUP) break;
    Reload(reload_steps);
  }
  cloudlink::LogInfo(
      absl::StrCat("cloudlinkd: ", strsignal(sig), ", stopping"));
  local_page.reset();
  if (publish_socket != nullptr) publish_socket->Stop();
  // The API's stop is bounded: gRPC 1.51 can wait for ever for work it gave
  // a thread the system refused (a task limit). Past the limit the daemon
  // stops without it; the link still says goodbye.
  const absl::Duration api_stop_limit =
      cloudlink::api::ApiServer::kShutdownGrace + absl::Seconds(3);
  const bool api_shutdown_hangs = absl::GetFlag(FLAGS_test_api_shutdown_hangs);
  const absl::Status api_stopped = (*stopper)->Run(
      [&] {
        if (api_shutdown_hangs) {
          while (true) pause();
        }
        (*server)->Shutdown();
      },
      api_stop_limit);
  if (!api_stopped.ok()) {
    cloudlink::LogError(absl::StrCat(
        "API: gRPC has not stopped ", absl::FormatDuration(api_stop_limit),
        " after the shutdown began (calls in progress were cancelled after ",
        absl::FormatDuration(cloudlink::api::ApiServer::kShutdownGrace),
        "); stopping without it"));
    unlink(socket_path.c_str());
  }
  node.Stop();
  cloudlink::LogInfo("cloudlinkd: stopped");
  if (!api_stopped.ok()) {
    // The API server is still in use by its shutdown: exit without
    // destroying anything, once the spool has written what it holds (as its
    // destructor would: acks of the cloud, appends not yet confirmed).
    if (spool.ok()) (*spool)->Flush();
    if (late_spool != nullptr) late_spool->Flush();
    fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

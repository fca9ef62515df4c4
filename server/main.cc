// cloudlinkd: runs the cloud link of this node and serves the CloudLink API
// on a Unix socket. Flags: the ABSL_FLAGs below (cloudlinkd --help;
// docs/operating.md).

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "server/api/allowed_subjects.h"
#include "server/api/api_server.h"
#include "server/api/authorizer.h"
#include "server/api/cloudlink_service.h"
#include "server/api/remote_listener.h"
#include "server/api/unix_peer_registry.h"
#include "server/api/unix_socket.h"
#include "server/common/command_line.h"
#include "server/common/log.h"
#include "server/config/environment.h"
#include "server/http/curl_http_client.h"
#include "server/node/node_controller.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "server/publish/spool.h"
#include "server/state/file_system.h"
#include "server/transport/lws_wss_connection.h"
#include "server/web/listen_address.h"
#include "server/web/local_endpoint.h"

ABSL_FLAG(std::string, socket, "/run/cloudlink/cloudlink.sock",
          "the API's Unix socket");
ABSL_FLAG(std::string, config_dir, "/etc/cloudlink", "holds claim.conf");
ABSL_FLAG(std::string, lib_dir, "/var/lib/cloudlink",
          "holds registry/ and cloud.d/");
ABSL_FLAG(std::string, cloud_ca, "",
          "a file of extra CA certificates (PEM) trusted for the cloud");
ABSL_FLAG(cloudlink::LogLevel, log_level, cloudlink::LogLevel::kInfo,
          "debug, info, warning or error");
ABSL_FLAG(uint64_t, queue_bytes, uint64_t{64} << 20,
          "bound of the publish memory queue in bytes, a positive number "
          "(default 64 MiB)");
ABSL_FLAG(uint64_t, spool_bytes, uint64_t{256} << 20,
          "bound of the durable spool cloud.d/spool/ in bytes, a positive "
          "number (default 256 MiB)");
ABSL_FLAG(std::string, admin_group, "cloudlink",
          "group whose members may claim, reclaim, reload and publish (root "
          "always may); owns the socket. If the group is missing: only root");
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
          "remote API: a file of lines \"admin SUBJECT\" or \"read SUBJECT\" "
          "(a certificate DN or common name)");
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

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

int main(int argc, char** argv) {
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
  const std::string socket_path = absl::GetFlag(FLAGS_socket);
  const std::string config_dir = absl::GetFlag(FLAGS_config_dir);
  const std::string lib_dir = absl::GetFlag(FLAGS_lib_dir);

  // Signals are taken by sigwait() below, not by handlers; block them before
  // any thread starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  cloudlink::state::PosixFileSystem fs;
  cloudlink::node::NodeOptions options;
  options.config_dir = config_dir;
  options.lib_dir = lib_dir;
  options.cloud_ca = absl::GetFlag(FLAGS_cloud_ca);
  options.env = cloudlink::config::ProcessEnvironment();
  // Proxy decisions are ours alone: no library may read these behind our
  // back (libwebsockets reads http_proxy when no proxy is set). The values
  // stay available to the "env" proxy setting in options.env.
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY",
                           "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    unsetenv(name);
  }
  options.hostname = HostName();

  cloudlink::LogInfo(absl::StrCat("cloudlinkd starting: config ", config_dir,
                                  ", lib ", lib_dir));
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
  cloudlink::publish::Publisher publisher(&queue,
                                          spool.ok() ? spool->get() : nullptr);
  options.publisher = &publisher;

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
    api_options.listen_address = remote.listen;
    api_options.remote_credentials = *std::move(credentials);
  }
  const cloudlink::api::UnixPolicy unix_policy =
      cloudlink::api::UnixPolicy::Resolve(admin_group);
  api_options.socket_group = unix_policy.socket_gid;
  cloudlink::api::UnixPeerRegistry unix_peers;
  const cloudlink::api::Authorizer authorizer(
      unix_policy, std::move(allowed_subjects), &unix_peers);
  cloudlink::api::CloudLinkService service(&node, &authorizer, &publisher);
  // The node's state is loaded before the API answers, so no client ever
  // sees a blank state (no machine GUID, "available" for a claimed node).
  // The socket is checked first, so a second daemon on the same socket
  // exits before it claims or connects anything.
  absl::Status socket_ready = cloudlink::api::PrepareSocketPath(socket_path);
  if (!socket_ready.ok()) {
    cloudlink::LogError(absl::StrCat("API: ", socket_ready.message()));
    return 1;
  }
  node.Start();
  auto server =
      cloudlink::api::ApiServer::Start(api_options, &service, &unix_peers);
  if (!server.ok()) {
    cloudlink::LogError(absl::StrCat("API: ", server.status().message()));
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

  int sig = 0;
  sigwait(&stop_signals, &sig);
  cloudlink::LogInfo(
      absl::StrCat("cloudlinkd: ", strsignal(sig), ", stopping"));
  local_page.reset();
  (*server)->Shutdown();
  node.Stop();
  cloudlink::LogInfo("cloudlinkd: stopped");
  return 0;
}

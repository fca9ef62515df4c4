// cloudlinkd: runs the cloud link of this node and serves the CloudLink API
// on a Unix socket. Flags: see Usage() below and README.md.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/api/allowed_subjects.h"
#include "server/api/api_server.h"
#include "server/api/authorizer.h"
#include "server/api/cloudlink_service.h"
#include "server/api/remote_listener.h"
#include "server/api/unix_peer_registry.h"
#include "server/api/unix_socket.h"
#include "server/common/log.h"
#include "server/config/environment.h"
#include "server/http/curl_http_client.h"
#include "server/node/node_controller.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "server/publish/spool.h"
#include "server/state/file_system.h"

namespace {

struct Flags {
  std::string socket = "/run/cloudlink/cloudlink.sock";
  std::string config_dir = "/etc/cloudlink";
  std::string lib_dir = "/var/lib/cloudlink";
  std::string cloud_ca;
  std::string log_level = "info";
  std::string queue_bytes = "67108864";   // 64 MiB
  std::string spool_bytes = "268435456";  // 256 MiB
  std::string admin_group = "cloudlink";
  cloudlink::api::RemoteListenerFlags remote;
};

constexpr char kUsage[] =
    "Usage: cloudlinkd [flags]\n"
    "\n"
    "Connects this node to its cloud and serves the CloudLink API.\n"
    "\n"
    "  --socket=PATH      API Unix socket (default "
    "/run/cloudlink/cloudlink.sock)\n"
    "  --config-dir=DIR   holds claim.conf (default /etc/cloudlink)\n"
    "  --lib-dir=DIR      holds registry/ and cloud.d/ (default "
    "/var/lib/cloudlink)\n"
    "  --cloud-ca=FILE    extra CA certificates (PEM) trusted for the cloud\n"
    "  --log-level=LEVEL  debug, info, warning or error (default info)\n"
    "  --queue-bytes=N    bound of the publish memory queue in bytes (default\n"
    "                     67108864 = 64 MiB)\n"
    "  --spool-bytes=N    bound of the durable spool cloud.d/spool/ in bytes\n"
    "                     (default 268435456 = 256 MiB)\n"
    "  --admin-group=NAME group whose members may claim, reclaim, reload and\n"
    "                     publish (root always may); owns the socket\n"
    "                     (default cloudlink; if missing: only root)\n"
    "\n"
    "Remote API (optional; mutual TLS only, all five flags together):\n"
    "  --listen=ADDRESS:PORT        also serve the API on this TCP address\n"
    "  --tls-cert=FILE              server certificate chain (PEM)\n"
    "  --tls-key=FILE               its private key (PEM)\n"
    "  --tls-client-ca=FILE         CA certificates client certificates must\n"
    "                               chain to\n"
    "  --tls-allowed-subjects=FILE  lines \"admin SUBJECT\" or \"read "
    "SUBJECT\"\n"
    "                               (a certificate DN or common name)\n"
    "\n"
    "  --help             this text\n";

// Parses "--name=value" and "--name value". Returns false (after printing
// why) on an unknown flag or a missing value.
bool ParseFlags(int argc, char** argv, Flags* flags) {
  struct Known {
    const char* name;
    std::string* value;
  } known[] = {{"--socket", &flags->socket},
               {"--config-dir", &flags->config_dir},
               {"--lib-dir", &flags->lib_dir},
               {"--cloud-ca", &flags->cloud_ca},
               {"--log-level", &flags->log_level},
               {"--queue-bytes", &flags->queue_bytes},
               {"--spool-bytes", &flags->spool_bytes},
               {"--admin-group", &flags->admin_group},
               {"--listen", &flags->remote.listen},
               {"--tls-cert", &flags->remote.tls_cert},
               {"--tls-key", &flags->remote.tls_key},
               {"--tls-client-ca", &flags->remote.tls_client_ca},
               {"--tls-allowed-subjects", &flags->remote.allowed_subjects}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      exit(0);
    }
    bool matched = false;
    for (const Known& k : known) {
      if (arg == k.name) {
        if (i + 1 >= argc) {
          fprintf(stderr, "cloudlinkd: %s needs a value\n%s", k.name, kUsage);
          return false;
        }
        *k.value = argv[++i];
        matched = true;
      } else if (absl::StartsWith(arg, absl::StrCat(k.name, "="))) {
        *k.value = arg.substr(strlen(k.name) + 1);
        matched = true;
      }
      if (matched) break;
    }
    if (!matched) {
      fprintf(stderr, "cloudlinkd: unknown flag '%s'\n%s", arg.c_str(), kUsage);
      return false;
    }
  }
  return true;
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
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  cloudlink::LogLevel level;
  if (!cloudlink::ParseLogLevel(flags.log_level, &level)) {
    fprintf(stderr,
            "cloudlinkd: --log-level must be debug, info, warning or error\n");
    return 2;
  }
  cloudlink::SetLogLevel(level);
  uint64_t queue_bytes = 0;
  uint64_t spool_bytes = 0;
  if (!absl::SimpleAtoi(flags.queue_bytes, &queue_bytes) || queue_bytes == 0) {
    fprintf(stderr, "cloudlinkd: --queue-bytes must be a positive number\n");
    return 2;
  }
  if (!absl::SimpleAtoi(flags.spool_bytes, &spool_bytes) || spool_bytes == 0) {
    fprintf(stderr, "cloudlinkd: --spool-bytes must be a positive number\n");
    return 2;
  }
  if (flags.admin_group.empty()) {
    fprintf(stderr, "cloudlinkd: --admin-group needs a group name\n");
    return 2;
  }
  absl::Status remote_flags =
      cloudlink::api::CheckRemoteListenerFlags(flags.remote);
  if (!remote_flags.ok()) {
    fprintf(stderr, "cloudlinkd: %s\n",
            std::string(remote_flags.message()).c_str());
    return 2;
  }

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
  options.config_dir = flags.config_dir;
  options.lib_dir = flags.lib_dir;
  options.cloud_ca = flags.cloud_ca;
  options.env = cloudlink::config::ProcessEnvironment();
  // Proxy decisions are ours alone (SPEC section 3): no library may read
  // these behind our back (libwebsockets reads http_proxy when no proxy is
  // set). The values stay available to the "env" proxy setting in options.env.
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY",
                           "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
    unsetenv(name);
  }
  options.hostname = HostName();

  cloudlink::LogInfo(absl::StrCat("cloudlinkd starting: config ",
                                  flags.config_dir, ", lib ", flags.lib_dir));
  // The publish path (SPEC section 7). Without a usable spool the daemon
  // still runs; DURABLE publishes are then refused (SPOOL_UNAVAILABLE).
  cloudlink::publish::QueueOptions queue_options;
  queue_options.max_bytes = queue_bytes;
  cloudlink::publish::PublishQueue queue(queue_options);
  cloudlink::publish::SpoolOptions spool_options;
  spool_options.dir = flags.lib_dir + "/cloud.d/spool";
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
  cloudlink::node::NodeController node(options, &fs, &http);
  // Who may call what (server/api/authorizer.h). The remote listener's
  // files are read now, so a bad one stops the start with a clear error.
  cloudlink::api::ApiServerOptions api_options;
  api_options.socket_path = flags.socket;
  cloudlink::api::AllowedSubjects allowed_subjects;
  if (!flags.remote.listen.empty()) {
    auto credentials = cloudlink::api::LoadMutualTlsCredentials(flags.remote);
    absl::StatusOr<cloudlink::api::AllowedSubjects> subjects =
        credentials.ok() ? cloudlink::api::AllowedSubjects::Load(
                               flags.remote.allowed_subjects)
                         : credentials.status();
    if (!subjects.ok()) {
      cloudlink::LogError(absl::StrCat("API: ", subjects.status().message()));
      return 1;
    }
    allowed_subjects = *std::move(subjects);
    api_options.listen_address = flags.remote.listen;
    api_options.remote_credentials = *std::move(credentials);
  }
  const cloudlink::api::UnixPolicy unix_policy =
      cloudlink::api::UnixPolicy::Resolve(flags.admin_group);
  api_options.socket_group = unix_policy.socket_gid;
  cloudlink::api::UnixPeerRegistry unix_peers;
  const cloudlink::api::Authorizer authorizer(
      unix_policy, std::move(allowed_subjects), &unix_peers);
  cloudlink::api::CloudLinkService service(&node, &authorizer, &publisher);
  // The node's state is loaded before the API answers, so no client ever
  // sees a blank state (no machine GUID, "available" for a claimed node).
  // The socket is checked first, so a second daemon on the same socket
  // exits before it claims or connects anything.
  absl::Status socket_ready = cloudlink::api::PrepareSocketPath(flags.socket);
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

  int sig = 0;
  sigwait(&stop_signals, &sig);
  cloudlink::LogInfo(
      absl::StrCat("cloudlinkd: ", strsignal(sig), ", stopping"));
  (*server)->Shutdown();
  node.Stop();
  cloudlink::LogInfo("cloudlinkd: stopped");
  return 0;
}

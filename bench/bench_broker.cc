#include "bench/bench_broker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/common/error.h"
#include "tests/testing/loopback_port.h"
#include "tools/devcloud/certificates.h"

namespace cloudlink::bench {
namespace {

absl::Status StartFailed(absl::string_view sentence) {
  return Error(absl::StatusCode::kUnavailable, reason::kBrokerStartFailed,
               sentence);
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 600 ? all.substr(all.size() - 600) : all;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchBroker>> BenchBroker::Start(
    BenchBrokerOptions options) {
  absl::StatusOr<devcloud::CertificateFiles> certs =
      devcloud::EnsureCertificates(options.dir);
  if (!certs.ok()) return certs.status();
  std::unique_ptr<BenchBroker> broker(new BenchBroker());
  broker->ca_file_ = certs->ca_cert;
  absl::StatusOr<int> wss_port = testing::PickFreeLoopbackPort();
  if (!wss_port.ok()) return StartFailed(wss_port.status().message());
  absl::StatusOr<int> plain_port = testing::PickFreeLoopbackPort();
  if (!plain_port.ok()) return StartFailed(plain_port.status().message());
  broker->wss_port_ = *wss_port;
  broker->plain_port_ = *plain_port;

  const std::string conf_path = options.dir + "/mosquitto.conf";
  const std::string log_path = options.dir + "/mosquitto.log";
  {
    std::ofstream conf(conf_path, std::ios::trunc);
    conf << "per_listener_settings false\n"
         << "allow_anonymous true\n"
         << "persistence false\n"
         << "set_tcp_nodelay true\n"
         << "log_dest stderr\n"
         << "log_type error\nlog_type warning\n"
         // As root mosquitto would drop to user "mosquitto", who cannot
         // read the key.
         << (geteuid() == 0 ? "user root\n" : "") << "\n"
         << "listener " << broker->plain_port_ << " 127.0.0.1\n"
         << "protocol mqtt\n\n"
         << "listener " << broker->wss_port_ << " 127.0.0.1\n"
         << "protocol websockets\n"
         // Without it a websockets listener binds every interface.
         << "socket_domain ipv4\n"
         << "certfile " << certs->server_cert << "\n"
         << "keyfile " << certs->server_key << "\n";
    if (!options.tls13_ciphersuites.empty()) {
      conf << "ciphers_tls1.3 " << options.tls13_ciphersuites << "\n";
    }
    if (!conf.good()) {
      return Error(absl::StatusCode::kInternal, reason::kWriteFailed,
                   absl::StrCat("cannot write ", conf_path));
    }
  }

  const int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) return StartFailed(absl::StrCat("cannot open ", log_path));
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return StartFailed("fork failed");
  }
  if (pid == 0) {
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execl(options.mosquitto_path.c_str(), "mosquitto", "-c", conf_path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log_fd);
  broker->pid_ = pid;

  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!(testing::LoopbackPortAcceptsConnections(broker->wss_port_) &&
           testing::LoopbackPortAcceptsConnections(broker->plain_port_))) {
    int wstatus = 0;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      broker->pid_ = -1;
      return StartFailed(absl::StrCat("mosquitto exited: ", LogTail(log_path)));
    }
    if (absl::Now() > deadline) {
      return StartFailed(absl::StrCat("mosquitto did not listen within 10 s: ",
                                      LogTail(log_path)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return broker;
}

BenchBroker::~BenchBroker() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &wstatus, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

std::string BenchBroker::wss_url() const {
  return absl::StrCat("wss://localhost:", wss_port_, "/mqtt");
}

}  // namespace cloudlink::bench

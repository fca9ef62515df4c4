#include "tools/devcloud/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "tests/testing/loopback_port.h"
#include "tools/devcloud/random_token.h"

namespace cloudlink::devcloud {
namespace {

constexpr int kPbkdf2Iterations = 101;  // mosquitto_passwd's default
constexpr absl::Duration kStartTimeout = absl::Seconds(10);
constexpr absl::Duration kStopTimeout = absl::Seconds(5);
constexpr absl::Duration kReloadTimeout = absl::Seconds(5);

absl::Status StartFailed(absl::string_view why) {
  return Error(absl::StatusCode::kUnavailable, reason::kBrokerStartFailed, why);
}

// A connected TCP socket to 127.0.0.1:port, or -1 (bounded by `timeout`).
int ConnectLoopback(int port, absl::Duration timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      close(fd);
      return -1;
    }
    pollfd p = {fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) !=
            1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

void AppendMqttString(std::string* out, absl::string_view s) {
  out->push_back(static_cast<char>(s.size() >> 8));
  out->push_back(static_cast<char>(s.size() & 0xff));
  out->append(s.data(), s.size());
}

std::string LogTail(state::FileSystem* fs, const std::string& path) {
  absl::StatusOr<std::string> log = fs->ReadFile(path);
  if (!log.ok()) return "";
  return log->size() > 600 ? log->substr(log->size() - 600) : *log;
}

}  // namespace

std::string MosquittoPasswordHash(absl::string_view password) {
  std::string salt = RandomBytes(12);
  unsigned char hash[64];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), kPbkdf2Iterations,
                    EVP_sha512(), sizeof(hash), hash);
  return absl::StrCat("$7$", kPbkdf2Iterations, "$", absl::Base64Escape(salt),
                      "$",
                      absl::Base64Escape(absl::string_view(
                          reinterpret_cast<char*>(hash), sizeof(hash))));
}

bool ProbeMqttLogin(int port, absl::string_view username,
                    absl::string_view password, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  int fd = ConnectLoopback(port, timeout);
  if (fd < 0) return false;
  // MQTT 3.1.1 CONNECT: clean session, username and password, keepalive 10.
  std::string body;
  AppendMqttString(&body, "MQTT");
  body.push_back(4);
  body.push_back(static_cast<char>(0xC2));
  body.push_back(0);
  body.push_back(10);
  AppendMqttString(&body, absl::StrCat("devcloud-probe-", RandomToken(8)));
  AppendMqttString(&body, username);
  AppendMqttString(&body, password);
  std::string packet(1, static_cast<char>(0x10));
  size_t remaining = body.size();
  do {
    unsigned char byte = remaining % 128;
    remaining /= 128;
    if (remaining > 0) byte |= 0x80;
    packet.push_back(static_cast<char>(byte));
  } while (remaining > 0);
  packet += body;
  bool accepted = false;
  if (send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(packet.size())) {
    unsigned char connack[4];
    size_t got = 0;
    while (got < sizeof(connack)) {
      int wait_ms =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      pollfd p = {fd, POLLIN, 0};
      if (wait_ms <= 0 || poll(&p, 1, wait_ms) != 1) break;
      ssize_t n = recv(fd, connack + got, sizeof(connack) - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    accepted = got == sizeof(connack) && connack[0] == 0x20 &&
               connack[1] == 2 && connack[3] == 0;
    if (accepted) {
      const char disconnect[2] = {static_cast<char>(0xE0), 0};
      send(fd, disconnect, sizeof(disconnect), MSG_NOSIGNAL);
    }
  }
  close(fd);
  return accepted;
}

absl::StatusOr<std::unique_ptr<Broker>> Broker::Start(BrokerOptions options) {
  std::unique_ptr<Broker> broker(new Broker(std::move(options)));
  // mosquitto cannot listen on port 0 and tell its port: pick two.
  absl::StatusOr<int> websocket_port = testing::PickFreeLoopbackPort();
  absl::StatusOr<int> plain_port =
      websocket_port.ok() ? testing::PickFreeLoopbackPort() : websocket_port;
  if (!plain_port.ok()) return StartFailed(plain_port.status().message());
  broker->websocket_port_ = *websocket_port;
  broker->plain_port_ = *plain_port;
  broker->admin_password_ = RandomToken(40);
  std::lock_guard<std::mutex> lock(broker->mu_);
  broker->hashes_[broker->admin_username_] =
      MosquittoPasswordHash(broker->admin_password_);
  RETURN_IF_ERROR(broker->WriteConfigLocked());
  RETURN_IF_ERROR(broker->WritePasswordsLocked());
  RETURN_IF_ERROR(broker->LaunchLocked());
  return broker;
}

Broker::~Broker() {
  std::lock_guard<std::mutex> lock(mu_);
  StopLocked();
}

absl::Status Broker::WriteConfigLocked() {
  const std::string& dir = options_.dir;
  std::string conf = absl::StrCat(
      "# Written by the dev cloud at each start; edits are lost.\n",
      "per_listener_settings false\n", "allow_anonymous false\n",
      "password_file ", dir, "/mosquitto.passwd\n", "acl_file ", dir,
      "/mosquitto.acl\n",
      // Persistent sessions survive a broker stop/start (saved on SIGTERM),
      // so an independent subscriber with a persistent session misses
      // nothing the broker acknowledged; nodes use clean sessions.
      "persistence true\n", "persistence_location ", dir, "/\n",
      "max_queued_messages 0\n",
      options_.max_keepalive_seconds > 0
          ? absl::StrCat("max_keepalive ", options_.max_keepalive_seconds, "\n")
          : "",
      "log_dest stderr\n",
      "log_type error\nlog_type warning\nlog_type notice\n",
      "log_type information\n", "connection_messages true\n",
      // As root, mosquitto would drop to user "mosquitto", who cannot read
      // the key.
      geteuid() == 0 ? "user root\n" : "", "\n", "listener ", plain_port_,
      " 127.0.0.1\n", "protocol mqtt\n", "\n", "listener ", websocket_port_,
      " 127.0.0.1\n", "protocol websockets\n",
      // Without it a websockets listener binds every interface.
      "socket_domain ipv4\n", "certfile ", options_.cert_file, "\n", "keyfile ",
      options_.key_file, "\n");
  // The node ACL: %u is the username, which the password answer sets to the
  // claim id; the admin (the dev cloud's subscriber) may use every topic.
  std::string acl =
      absl::StrCat("user ", admin_username_, "\ntopic readwrite #\n\n",
                   "pattern readwrite /agent/%u/#\n");
  RETURN_IF_ERROR(
      options_.fs->WriteFileAtomic(dir + "/mosquitto.conf", conf, 0600));
  return options_.fs->WriteFileAtomic(dir + "/mosquitto.acl", acl, 0600);
}

absl::Status Broker::WritePasswordsLocked() {
  std::string text;
  for (const auto& [user, hash] : hashes_) {
    absl::StrAppend(&text, user, ":", hash, "\n");
  }
  return options_.fs->WriteFileAtomic(options_.dir + "/mosquitto.passwd", text,
                                      0600);
}

absl::Status Broker::LaunchLocked() {
  std::string conf = options_.dir + "/mosquitto.conf";
  std::string log_path = options_.dir + "/mosquitto.log";
  int log_fd =
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return StartFailed(absl::StrCat("cannot open ", log_path));
  std::string path = options_.mosquitto_path;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return StartFailed("fork failed");
  }
  if (pid == 0) {
    // Dies with the dev cloud even when that is killed without a chance to
    // stop it.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execl(path.c_str(), path.c_str(), "-c", conf.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log_fd);
  pid_ = pid;
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (absl::Now() < deadline) {
    if (!RunningLocked()) {
      return StartFailed(
          absl::StrCat("mosquitto exited: ", LogTail(options_.fs, log_path)));
    }
    int a = ConnectLoopback(plain_port_, absl::Milliseconds(200));
    int b = ConnectLoopback(websocket_port_, absl::Milliseconds(200));
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    if (a >= 0 && b >= 0) {
      LogInfo(absl::StrCat("mosquitto (pid ", pid_,
                           ") on 127.0.0.1:", websocket_port_,
                           " (wss) and :", plain_port_, " (mqtt)"));
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  StopLocked();
  return StartFailed(absl::StrCat("mosquitto did not listen within 10 s: ",
                                  LogTail(options_.fs, log_path)));
}

bool Broker::RunningLocked() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Broker::StopLocked() {
  if (!RunningLocked()) return;
  kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + kStopTimeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool Broker::running() {
  std::lock_guard<std::mutex> lock(mu_);
  return RunningLocked();
}

absl::Status Broker::Pause() {
  std::lock_guard<std::mutex> lock(mu_);
  StopLocked();
  LogInfo("mosquitto stopped");
  return absl::OkStatus();
}

absl::Status Broker::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  if (RunningLocked()) return absl::OkStatus();
  return LaunchLocked();
}

absl::Status Broker::SetNodePassword(absl::string_view username,
                                     absl::string_view password) {
  std::lock_guard<std::mutex> lock(mu_);
  hashes_[std::string(username)] = MosquittoPasswordHash(password);
  RETURN_IF_ERROR(WritePasswordsLocked());
  if (!RunningLocked()) return absl::OkStatus();
  kill(pid_, SIGHUP);
  // SIGHUP is handled asynchronously: probe until the new password works.
  absl::Time deadline = absl::Now() + kReloadTimeout;
  while (absl::Now() < deadline) {
    if (ProbeMqttLogin(plain_port_, username, password,
                       absl::Milliseconds(500))) {
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return Error(absl::StatusCode::kUnavailable, reason::kBrokerReloadFailed,
               "mosquitto did not accept the new credentials within 5 s");
}

}  // namespace cloudlink::devcloud

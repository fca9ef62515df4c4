#include "tools/devcloud/dev_cloud_server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "aclk/v1/disconnect.pb.h"
#include "httplib.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "tools/devcloud/env_file.h"
#include "tools/devcloud/space_page.h"

namespace cloudlink::devcloud {

using nlohmann::json;

namespace {

constexpr char kDevPrefix[] = "/_dev/";
constexpr size_t kWorkerThreads = 32;
constexpr size_t kMaxBodyBytes = 1 << 20;

void Send(const HttpAnswer& answer, httplib::Response& res) {
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers) res.set_header(name, value);
  if (!answer.body.is_null()) {
    res.set_content(answer.body.dump(), "application/json");
  }
}

bool IsLoopback(const std::string& address) {
  return absl::StartsWith(address, "127.") || address == "::1" ||
         absl::StartsWith(address, "::ffff:127.");
}

// `dir` created (0700) when missing, as an absolute path.
absl::StatusOr<std::string> PrepareDir(const std::string& dir) {
  if (dir.empty()) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadDir,
                 "--dir is required");
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadDir,
                 absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
  }
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) == nullptr) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadDir,
                 absl::StrCat("cannot resolve ", dir, ": ", strerror(errno)));
  }
  return std::string(resolved);
}

// An exclusive lock on DIR/devcloud.lock, held for the process's lifetime
// (the descriptor is returned), so two dev clouds never share one DIR.
absl::StatusOr<int> LockDir(const std::string& dir) {
  std::string path = dir + "/devcloud.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kBadDir,
                 absl::StrCat("cannot open ", path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return Error(absl::StatusCode::kFailedPrecondition, reason::kDirInUse,
                 absl::StrCat("another dev cloud is running in ", dir));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DevCloudServer>> DevCloudServer::Create(
    DevCloudOptions options) {
  std::unique_ptr<DevCloudServer> server(new DevCloudServer());
  ASSIGN_OR_RETURN(server->dir_, PrepareDir(options.dir));
  ASSIGN_OR_RETURN(server->lock_fd_, LockDir(server->dir_));
  server->fs_ = options.fs;
  server->host_ = options.host;
  ASSIGN_OR_RETURN(server->certs_,
                   EnsureCertificates(server->dir_, server->fs_));
  LogInfo(absl::StrCat(server->certs_.created ? "generated" : "reusing",
                       " certificates in ", server->dir_));
  ASSIGN_OR_RETURN(
      server->spaces_,
      SpaceDirectory::Open(server->dir_ + "/devcloud.json", server->fs_));
  ASSIGN_OR_RETURN(
      server->nodes_,
      NodeRegistry::Open(server->dir_ + "/nodes.json", server->fs_));
  server->claims_ =
      std::make_unique<ClaimApi>(server->spaces_.get(), server->nodes_.get());

  server->http_ = std::make_unique<httplib::SSLServer>(
      server->certs_.server_cert.c_str(), server->certs_.server_key.c_str());
  if (!server->http_->is_valid()) {
    return Error(absl::StatusCode::kInternal, reason::kTlsSetupFailed,
                 "cannot load the server certificate and key");
  }
  server->http_->new_task_queue = [] {
    return new httplib::ThreadPool(kWorkerThreads);
  };
  server->http_->set_payload_max_length(kMaxBodyBytes);
  server->InstallRoutes();
  if (options.port == 0) {
    server->port_ = server->http_->bind_to_any_port(options.host);
  } else if (server->http_->bind_to_port(options.host, options.port)) {
    server->port_ = options.port;
  }
  if (server->port_ <= 0) {
    return Error(
        absl::StatusCode::kUnavailable, reason::kBindFailed,
        absl::StrCat("cannot listen on ", options.host, ":", options.port));
  }

  BrokerOptions broker_options;
  broker_options.dir = server->dir_;
  broker_options.cert_file = server->certs_.server_cert;
  broker_options.key_file = server->certs_.server_key;
  broker_options.mosquitto_path = options.mosquitto_path;
  broker_options.max_keepalive_seconds = options.broker_max_keepalive_seconds;
  broker_options.fs = server->fs_;
  ASSIGN_OR_RETURN(server->broker_, Broker::Start(std::move(broker_options)));
  ASSIGN_OR_RETURN(
      server->subscriber_,
      CloudSubscriber::Start(server->broker_->plain_port(),
                             server->broker_->admin_username(),
                             server->broker_->admin_password(),
                             server->nodes_.get(), &server->messages_));
  LoginEndpoints endpoints;
  endpoints.auth_endpoint = absl::StrCat("https://", server->host_, ":",
                                         server->port_, "/api/v1/auth");
  endpoints.mqtt_endpoint = absl::StrCat(
      "wss://localhost:", server->broker_->websocket_port(), "/mqtt");
  Broker* broker = server->broker_.get();
  CloudSubscriber* subscriber = server->subscriber_.get();
  server->login_ = std::make_unique<LoginApi>(
      server->spaces_.get(), server->nodes_.get(), std::move(endpoints),
      [broker, subscriber](absl::string_view user, absl::string_view password) {
        // Like a real cloud, no node is let in while the cloud itself cannot
        // see it (its subscriber is not listening yet after a broker
        // restart): the node gets a retryable error instead.
        if (!subscriber->WaitSubscribed(absl::Seconds(5))) {
          return Error(absl::StatusCode::kUnavailable,
                       reason::kSubscriberNotReady,
                       "the cloud's subscriber is not listening yet");
        }
        return broker->SetNodePassword(user, password);
      });
  return server;
}

DevCloudServer::~DevCloudServer() {
  http_.reset();
  subscriber_.reset();
  broker_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
}

bool DevCloudServer::ApplyFault(const httplib::Request& req,
                                httplib::Response& res) {
  if (absl::StartsWith(req.path, kDevPrefix)) return false;
  // The wall clock: tests set it beside the times cloudlinkd reports.
  requests_.Count(req.path, absl::Now());
  absl::optional<FaultRule> fault = faults_.Take(req.path);
  if (!fault) return false;
  LogInfo(absl::StrCat("fault: ", req.method, " ", req.path, " -> ",
                       fault->answer.status));
  if (fault->delay > absl::ZeroDuration()) absl::SleepFor(fault->delay);
  Send(fault->answer, res);
  return true;
}

bool DevCloudServer::AuthorizeDev(const httplib::Request& req,
                                  httplib::Response& res) {
  if (IsLoopback(req.remote_addr) &&
      spaces_->IsAnyAdminToken(
          BearerToken(req.get_header_value("Authorization")))) {
    return true;
  }
  Send(ErrorAnswer(403, "forbidden", "ErrForbidden",
                   "dev switches need a loopback client and an admin API "
                   "token"),
       res);
  return false;
}

void DevCloudServer::InstallRoutes() {
  httplib::SSLServer& http = *http_;
  http.set_logger(
      [](const httplib::Request& req, const httplib::Response& res) {
        LogDebug(absl::StrCat(req.method, " ", req.path, " -> ", res.status));
      });

  // Faults apply inside the handlers, after the request body was read, so
  // a faulted answer leaves a keep-alive connection usable.
  auto faultable = [this](httplib::Server::Handler handler) {
    return
        [this, handler](const httplib::Request& req, httplib::Response& res) {
          if (!ApplyFault(req, res)) handler(req, res);
        };
  };

  http.Put(
      R"(/api/v1/spaces/nodes/([^/]+))",
      faultable([this](const httplib::Request& req, httplib::Response& res) {
        Send(claims_->Claim(req.matches[1].str(), req.body), res);
      }));
  http.Post(
      R"(/api/v1/spaces/([^/]+)/claim-token/regenerate)",
      faultable([this](const httplib::Request& req, httplib::Response& res) {
        HttpAnswer answer = claims_->RegenerateToken(
            req.matches[1].str(), req.get_header_value("Authorization"));
        // Keep devcloud.env current for scripts that read it later.
        if (answer.status == 200) {
          absl::Status written = WriteReadiness();
          if (!written.ok()) LogWarning(written.message());
        }
        Send(answer, res);
      }));
  http.Get(
      R"(/api/v1/spaces/([^/]+)/claim-token)",
      faultable([this](const httplib::Request& req, httplib::Response& res) {
        HttpAnswer answer = claims_->ClaimToken(
            req.matches[1].str(), req.get_header_value("Authorization"));
        answer.headers.emplace_back("Cache-Control", "no-store");
        Send(answer, res);
      }));
  // The Space page (tools/devcloud/page/): static files; it reads the Space
  // id and admin API token from its address's fragment and calls the API
  // above with them.
  http.Get(R"(/space(\.js|\.css)?)",
           [](const httplib::Request& req, httplib::Response& res) {
             const SpacePageFile* file = FindSpacePageFile(req.path);
             if (file == nullptr) {
               res.status = 404;
               return;
             }
             res.set_header("Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; "
                            "style-src 'self'; connect-src 'self'; "
                            "base-uri 'none'; frame-ancestors 'none'");
             res.set_header("X-Frame-Options", "DENY");
             res.set_header("X-Content-Type-Options", "nosniff");
             res.set_header("Referrer-Policy", "no-referrer");
             res.set_header("Cache-Control", "no-cache");
             res.set_content(std::string(file->body),
                             std::string(file->content_type).c_str());
           });
  http.Get(
      R"(/api/v1/spaces/([^/]+)/nodes)",
      faultable([this](const httplib::Request& req, httplib::Response& res) {
        Send(claims_->ListNodes(req.matches[1].str(),
                                req.get_header_value("Authorization")),
             res);
      }));

  http.Post("/_dev/faults", [this](const httplib::Request& req,
                                   httplib::Response& res) {
    if (!AuthorizeDev(req, res)) return;
    absl::StatusOr<FaultRule> rule = ParseFaultRule(req.body);
    if (!rule.ok()) {
      Send(ErrorAnswer(400, "bad-request", "ErrBadRequest",
                       rule.status().message()),
           res);
      return;
    }
    LogInfo(absl::StrCat("fault armed: ", rule->path_prefixes[0], " -> ",
                         rule->answer.status, " x", rule->remaining));
    faults_.Add(*std::move(rule));
    res.status = 204;
  });
  http.Delete("/_dev/faults",
              [this](const httplib::Request& req, httplib::Response& res) {
                if (!AuthorizeDev(req, res)) return;
                faults_.Clear();
                res.status = 204;
              });
  http.Get("/_dev/requests", [this](const httplib::Request& req,
                                    httplib::Response& res) {
    if (!AuthorizeDev(req, res)) return;
    std::map<std::string, int> counts =
        requests_.CountsWithPrefix(req.get_param_value("pathPrefix"));
    int total = 0;
    for (const auto& [path, count] : counts) total += count;
    json recent = json::array();
    for (const SeenRequest& request :
         requests_.RecentWithPrefix(req.get_param_value("pathPrefix"))) {
      recent.push_back(
          {{"path", request.path},
           {"receivedAt", absl::FormatTime(absl::RFC3339_full, request.received,
                                           absl::UTCTimeZone())}});
    }
    HttpAnswer answer;
    answer.body = {{"total", total}, {"paths", counts}, {"requests", recent}};
    Send(answer, res);
  });
  InstallLinkRoutes();
  InstallDevRoutes();
}

void DevCloudServer::InstallLinkRoutes() {
  httplib::SSLServer& http = *http_;
  auto faultable = [this](httplib::Server::Handler handler) {
    return
        [this, handler](const httplib::Request& req, httplib::Response& res) {
          if (!ApplyFault(req, res)) handler(req, res);
        };
  };
  http.Get("/api/v1/env", faultable([this](const httplib::Request& req,
                                           httplib::Response& res) {
             Send(login_->Env(req.get_param_value("claim_id")), res);
           }));
  http.Get(
      R"(/api/v1/auth/node/([^/]+)/challenge)",
      faultable([this](const httplib::Request& req, httplib::Response& res) {
        Send(login_->Challenge(req.matches[1].str()), res);
      }));
  http.Post(
      R"(/api/v1/auth/node/([^/]+)/password)",
      faultable([this](const httplib::Request& req, httplib::Response& res) {
        Send(login_->Password(req.matches[1].str(), req.body), res);
      }));
}

void DevCloudServer::InstallDevRoutes() {
  httplib::SSLServer& http = *http_;
  http.Post("/_dev/login-error",
            [this](const httplib::Request& req, httplib::Response& res) {
              if (!AuthorizeDev(req, res)) return;
              absl::StatusOr<FaultRule> rule = ParseLoginErrorRule(req.body);
              if (!rule.ok()) {
                Send(ErrorAnswer(400, "bad-request", "ErrBadRequest",
                                 rule.status().message()),
                     res);
                return;
              }
              LogInfo(absl::StrCat("login error armed: ", rule->answer.status,
                                   " x", rule->remaining));
              faults_.Add(*std::move(rule));
              res.status = 204;
            });
  http.Get(R"(/_dev/nodes/([^/]+)/messages)",
           [this](const httplib::Request& req, httplib::Response& res) {
             if (!AuthorizeDev(req, res)) return;
             HttpAnswer answer;
             answer.body = messages_.ForNode(req.matches[1].str());
             Send(answer, res);
           });
  http.Post(
      R"(/_dev/nodes/([^/]+)/disconnect)",
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!AuthorizeDev(req, res)) return;
        std::string claim_id = req.matches[1].str();
        if (!nodes_->Find(claim_id)) {
          Send(ErrorAnswer(404, "not-found", "ErrNodeNotFound", "no such node"),
               res);
          return;
        }
        json doc = req.body.empty() ? json::object()
                                    : json::parse(req.body, nullptr, false);
        if (doc.is_discarded() || !doc.is_object()) {
          Send(ErrorAnswer(400, "bad-request", "ErrBadRequest",
                           "the body is not a JSON object"),
               res);
          return;
        }
        aclk::v1::DisconnectReq request;
        request.set_reconnect_after_seconds(
            doc.value("reconnectAfterSeconds", uint64_t{0}));
        request.set_permaban(doc.value("permaban", false));
        request.set_error_code(doc.value("errorCode", uint32_t{0}));
        request.set_error_description(doc.value("errorDescription", ""));
        int64_t now_seconds = absl::ToUnixSeconds(absl::Now());
        request.mutable_created_at()->set_seconds(now_seconds);
        absl::Status published =
            subscriber_->PublishDisconnect(claim_id, request);
        if (!published.ok()) {
          Send(ErrorAnswer(503, "broker-unavailable", "ErrBrokerUnavailable",
                           published.message()),
               res);
          return;
        }
        LogInfo(absl::StrCat("DisconnectReq sent to ", claim_id));
        res.status = 204;
      });
  http.Post("/_dev/broker/stop",
            [this](const httplib::Request& req, httplib::Response& res) {
              if (!AuthorizeDev(req, res)) return;
              absl::Status stopped = broker_->Pause();
              res.status = stopped.ok() ? 204 : 500;
            });
  http.Post("/_dev/broker/start", [this](const httplib::Request& req,
                                         httplib::Response& res) {
    if (!AuthorizeDev(req, res)) return;
    absl::Status started = broker_->Resume();
    if (!started.ok()) {
      Send(ErrorAnswer(500, "broker-start-failed", "ErrBrokerStartFailed",
                       started.message()),
           res);
      return;
    }
    // Answer once the cloud's own subscriber listens again, so a
    // test never races a node's hello against it.
    if (!subscriber_->WaitSubscribed(absl::Seconds(10))) {
      Send(ErrorAnswer(500, "subscriber-not-ready", "ErrSubscriberNotReady",
                       "the broker runs but the cloud's subscriber "
                       "did not resubscribe within 10 s"),
           res);
      return;
    }
    res.status = 204;
  });
}

absl::Status DevCloudServer::WriteReadiness() {
  std::vector<Space> spaces = spaces_->Spaces();
  EnvLines lines = {
      {"CLOUD_URL", absl::StrCat("https://", host_, ":", port_)},
      {"CLOUD_CA", certs_.ca_cert},
  };
  auto add_space = [&lines](const Space& space, absl::string_view suffix) {
    lines.emplace_back(absl::StrCat("SPACE", suffix, "_ID"), space.id);
    lines.emplace_back(absl::StrCat("CLAIM_TOKEN", suffix), space.claim_token);
    lines.emplace_back(absl::StrCat("ROOMS", suffix),
                       absl::StrJoin(space.rooms, ","));
    lines.emplace_back(absl::StrCat("ADMIN_API_TOKEN", suffix),
                       space.admin_api_token);
  };
  add_space(spaces[0], "");
  if (spaces.size() > 1) add_space(spaces[1], "_B");
  lines.emplace_back("BROKER_PORT", absl::StrCat(broker_->websocket_port()));
  lines.emplace_back("BROKER_PLAIN_PORT", absl::StrCat(broker_->plain_port()));
  // For independent test subscribers on the plain listener (every topic).
  lines.emplace_back("BROKER_ADMIN_USER", broker_->admin_username());
  lines.emplace_back("BROKER_ADMIN_PASSWORD", broker_->admin_password());
  lines.emplace_back("CLOUD_PID", absl::StrCat(getpid()));
  return WriteEnvFile(dir_ + "/devcloud.env", lines, fs_);
}

absl::Status DevCloudServer::Serve() {
  if (stop_requested_) return absl::OkStatus();
  RETURN_IF_ERROR(WriteReadiness());
  LogInfo(absl::StrCat("dev cloud serving on https://", host_, ":", port_));
  bool ok = http_->listen_after_bind();
  (void)fs_->RemoveFile(dir_ + "/devcloud.env");
  subscriber_.reset();
  broker_.reset();
  if (!ok && !stop_requested_) {
    return Error(absl::StatusCode::kInternal, reason::kServeFailed,
                 "the HTTPS server stopped unexpectedly");
  }
  LogInfo("dev cloud stopped");
  return absl::OkStatus();
}

void DevCloudServer::Stop() {
  stop_requested_ = true;
  http_->stop();
}

}  // namespace cloudlink::devcloud

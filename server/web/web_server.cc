#include "server/web/web_server.h"

#include <chrono>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/mutex.h"

namespace cloudlink::web {
namespace {

// cpp-httplib's task queue with a bound: `workers` threads, at most `queued`
// connections waiting. enqueue() blocks the accepting thread while the queue
// is full, so the daemon holds at most workers + queued + 1 connections.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t workers, size_t queued) : queued_(queued) {
    for (size_t i = 0; i < workers; ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }

  void enqueue(std::function<void()> fn) override {
    MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || tasks_.size() < queued_;
    });
    tasks_.push_back(std::move(fn));
  }

  void shutdown() override {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        MutexLock lock(&mu_);
        mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !tasks_.empty();
        });
        if (tasks_.empty()) return;  // stopping, and nothing left
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      }
      fn();
    }
  }

  const size_t queued_;
  Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

WebRequest FromHttplib(const httplib::Request& req) {
  WebRequest request;
  request.method = req.method;
  request.path = req.path;
  for (const auto& [name, value] : req.params) {
    request.params.emplace(name, value);  // the first value wins
  }
  request.host = req.get_header_value("Host");
  request.origin = req.get_header_value("Origin");
  request.sec_fetch_site = req.get_header_value("Sec-Fetch-Site");
  request.content_type = req.get_header_value("Content-Type");
  request.body = req.body;
  return request;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WebServer>> WebServer::Start(
    const WebServerOptions& options, const WebHandler* handler) {
  std::unique_ptr<WebServer> web(new WebServer());
  web->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *web->server_;
  const size_t workers = options.workers;
  const size_t queued = options.queued;
  server.new_task_queue = [workers, queued] {
    return new BoundedTaskQueue(workers, queued);
  };
  server.set_payload_max_length(options.max_body_bytes);
  // Headers and body go out in separate writes: without this, Nagle's
  // algorithm and the client's delayed ACK add 40 ms to every answer.
  server.set_tcp_nodelay(true);
  const auto io_timeout = absl::ToChronoMicroseconds(options.io_timeout);
  server.set_read_timeout(io_timeout);
  server.set_write_timeout(io_timeout);
  server.set_keep_alive_timeout(
      std::max<time_t>(1, absl::ToInt64Seconds(options.io_timeout)));
  auto serve = [handler](const httplib::Request& req, httplib::Response& res) {
    const WebResponse answer = handler->Handle(FromHttplib(req));
    res.status = answer.status;
    for (const auto& [name, value] : answer.headers) {
      res.set_header(name.c_str(), value);
    }
    res.set_content(answer.body, answer.content_type.c_str());
  };
  for (auto route : {&httplib::Server::Get, &httplib::Server::Post,
                     &httplib::Server::Put, &httplib::Server::Delete,
                     &httplib::Server::Options, &httplib::Server::Patch}) {
    (server.*route)(".*", serve);
  }
  // httplib's own refusals (413, 414, 400) get a plain body.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(absl::StrCat("request refused (HTTP ", res.status, ")\n"),
                      "text/plain; charset=utf-8");
    }
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("X-Content-Type-Options", "nosniff");
  });

  const std::string where = absl::StrCat(
      options.address.host.find(':') != std::string::npos ? "[" : "",
      options.address.host,
      options.address.host.find(':') != std::string::npos ? "]" : "", ":",
      options.address.port);
  if (options.address.port == 0) {
    web->port_ = server.bind_to_any_port(options.address.host);
    if (web->port_ < 0) web->port_ = 0;
  } else if (server.bind_to_port(options.address.host, options.address.port)) {
    web->port_ = options.address.port;
  }
  if (web->port_ == 0) {
    return Error(absl::StatusCode::kUnavailable, reason::kHttpListenFailed,
                 absl::StrCat("cannot listen on ", where,
                              " (in use, or not an address of this host)"));
  }
  web->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() only reaches a server that runs: wait (bounded) until it does.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  LogInfo(absl::StrCat("HTTP: the local page and /api/v3 are on http://",
                       where.substr(0, where.rfind(':')), ":", web->port_,
                       "/"));
  return web;
}

WebServer::~WebServer() { Shutdown(); }

void WebServer::Shutdown() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace cloudlink::web

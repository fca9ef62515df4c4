#include "server/api/on_demand_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_posix.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/thread_start.h"

namespace cloudlink::api {
namespace {

// An idle stop happens with no connection open, so no call can be in
// progress; this bounds the stop should one still be ending.
constexpr absl::Duration kIdleStopGrace = absl::Seconds(1);

absl::Status CannotStart() {
  return Error(absl::StatusCode::kUnavailable, reason::kListenFailed,
               "cannot start the gRPC server");
}

}  // namespace

absl::StatusOr<std::unique_ptr<OnDemandServer>> OnDemandServer::Start(
    Builder build, OpenConnections open_connections, OnDemandOptions options) {
  const absl::Duration idle_stop = options.idle_stop;
  std::unique_ptr<OnDemandServer> server(new OnDemandServer(
      std::move(build), std::move(open_connections), std::move(options)));
  {
    MutexLock lock(&server->mu_);
    server->server_ = server->build_();
    if (server->server_ == nullptr) return CannotStart();
    server->builds_ = 1;
  }
  if (idle_stop > absl::ZeroDuration()) {
    absl::StatusOr<std::thread> thread =
        StartThread([s = server.get()] { s->IdleLoop(); });
    if (!thread.ok()) {
      server->Shutdown(absl::ZeroDuration());
      return Error(absl::StatusCode::kUnavailable, reason::kListenFailed,
                   absl::StrCat("cannot start the gRPC server: ",
                                thread.status().message()));
    }
    server->idle_thread_ = *std::move(thread);
  }
  return server;
}

absl::Status OnDemandServer::Adopt(int fd) {
  MutexLock lock(&mu_);
  if (shut_down_) {
    close(fd);
    return Error(absl::StatusCode::kUnavailable, reason::kListenFailed,
                 "the API is stopping");
  }
  if (server_ == nullptr) {
    // The slots the reserve held are the new server's.
    if (reserve_ != nullptr) {
      reserve_->Release();
      reserve_.reset();
    }
    server_ = build_();
    if (server_ == nullptr) {
      close(fd);
      // Slots for the next attempt, when the system still has them.
      absl::StatusOr<std::unique_ptr<ThreadReserve>> again =
          options_.hold_threads(options_.reserve_threads);
      if (again.ok()) reserve_ = *std::move(again);
      return CannotStart();
    }
    ++builds_;
    LogDebug("API: gRPC started again for a new connection");
  }
  adopted_ = true;
  grpc::AddInsecureChannelFromFd(server_.get(), fd);  // gRPC owns fd now
  return absl::OkStatus();
}

void OnDemandServer::IdleLoop() {
  MonotonicTime last_busy = RealClock()->MonotonicNow();
  MutexLock lock(&mu_);
  while (!shut_down_) {
    if (server_ == nullptr) {
      // Stopped: nothing to watch until a connection builds a server.
      mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shut_down_ || server_ != nullptr;
      });
      last_busy = RealClock()->MonotonicNow();
      continue;
    }
    mu_.AwaitWithTimeout(&shut_down_, options_.idle_stop / 2);
    if (shut_down_ || server_ == nullptr) continue;
    const MonotonicTime now = RealClock()->MonotonicNow();
    if (adopted_ || open_connections_() > 0) {
      adopted_ = false;
      last_busy = now;
    } else if (now - last_busy >= options_.idle_stop) {
      absl::StatusOr<std::unique_ptr<ThreadReserve>> reserve =
          options_.hold_threads(options_.reserve_threads);
      if (!reserve.ok()) {
        if (!stop_put_off_) {
          LogWarning(absl::StrCat(
              "API: gRPC keeps running although no connection is open: ",
              reserve.status().message(),
              " to be sure of starting it again (a task limit?); trying "
              "again every ",
              absl::FormatDuration(options_.idle_stop)));
        }
        stop_put_off_ = true;
        last_busy = now;
        continue;
      }
      stop_put_off_ = false;
      StopServerLocked(kIdleStopGrace);
      reserve_ = *std::move(reserve);
      LogDebug(absl::StrCat("API: gRPC stopped: no connection for ",
                            absl::FormatDuration(options_.idle_stop)));
    }
  }
}

void OnDemandServer::StopServerLocked(absl::Duration grace) {
  if (server_ == nullptr) return;
  if (grpc::HealthCheckServiceInterface* health =
          server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(grace));
  server_->Wait();
  // The server held the last reference to the gRPC library: its threads
  // end here.
  server_.reset();
}

void OnDemandServer::Shutdown(absl::Duration grace) {
  {
    MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    StopServerLocked(grace);
    reserve_.reset();
  }
  if (idle_thread_.joinable()) idle_thread_.join();
}

OnDemandServer::~OnDemandServer() { Shutdown(absl::ZeroDuration()); }

bool OnDemandServer::running() const {
  MutexLock lock(&mu_);
  return server_ != nullptr;
}

int OnDemandServer::builds() const {
  MutexLock lock(&mu_);
  return builds_;
}

}  // namespace cloudlink::api

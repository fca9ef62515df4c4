#include "server/api/cloudlink_service.h"

#include <tuple>

#include "absl/time/clock.h"
#include "server/api/grpc_status.h"
#include "server/api/publish_stream.h"
#include "server/api/state_proto.h"
#include "server/common/clock.h"

namespace cloudlink::api {
namespace {

template <typename Request>
node::ClaimArgs ClaimArgsOf(const Request& request) {
  node::ClaimArgs args;
  args.token = request.token();
  args.rooms.assign(request.rooms().begin(), request.rooms().end());
  args.url = request.url();
  args.proxy = request.proxy();
  args.insecure = request.insecure();
  return args;
}

constexpr absl::Duration kDefaultReloadWait = absl::Seconds(10);
constexpr absl::Duration kMaxReloadWait = absl::Seconds(120);
// How often a WatchState stream checks for cancellation and shutdown.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(250);
// The most often a WatchState stream sends a State.
constexpr absl::Duration kWatchMinInterval = absl::Milliseconds(100);

}  // namespace

grpc::Status CloudLinkService::Claim(grpc::ServerContext* context,
                                     const cloudlink::v1::ClaimRequest* request,
                                     cloudlink::v1::ClaimResponse* response) {
  if (absl::Status allowed = authorizer_->Authorize(*context, "Claim");
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  absl::StatusOr<node::ClaimOutcome> outcome =
      node_->Claim(ClaimArgsOf(*request));
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  response->set_claimed_id(outcome->claimed_id);
  response->set_already_claimed(outcome->already_claimed);
  ToProto(node_->GetState().first, response->mutable_state());
  return grpc::Status::OK;
}

grpc::Status CloudLinkService::Reclaim(
    grpc::ServerContext* context, const cloudlink::v1::ReclaimRequest* request,
    cloudlink::v1::ReclaimResponse* response) {
  if (absl::Status allowed = authorizer_->Authorize(*context, "Reclaim");
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  absl::StatusOr<node::ReclaimOutcome> outcome =
      node_->Reclaim(request->new_identity(), ClaimArgsOf(*request));
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  response->set_claimed_id(outcome->claimed_id);
  response->set_machine_guid(outcome->machine_guid);
  ToProto(node_->GetState().first, response->mutable_state());
  return grpc::Status::OK;
}

grpc::Status CloudLinkService::RegenerateToken(
    grpc::ServerContext* context,
    const cloudlink::v1::RegenerateTokenRequest* request,
    cloudlink::v1::RegenerateTokenResponse* response) {
  if (absl::Status allowed =
          authorizer_->Authorize(*context, "RegenerateToken");
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  node::RegenerateArgs args;
  args.space_id = request->space_id();
  args.api_token = request->api_token();
  args.url = request->url();
  args.proxy = request->proxy();
  args.update_claim_conf = request->update_claim_conf();
  args.insecure = request->insecure();
  absl::StatusOr<node::RegenerateOutcome> outcome =
      node_->RegenerateToken(args);
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  response->set_token(outcome->token);
  response->set_claim_conf_updated(outcome->claim_conf_updated);
  response->set_claim_conf_error(outcome->claim_conf_error);
  return grpc::Status::OK;
}

grpc::Status CloudLinkService::GetState(grpc::ServerContext* context,
                                        const cloudlink::v1::GetStateRequest*,
                                        cloudlink::v1::State* response) {
  if (absl::Status allowed = authorizer_->Authorize(*context, "GetState");
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  ToProto(node_->GetState().first, response);
  return grpc::Status::OK;
}

grpc::Status CloudLinkService::ReloadClaimingState(
    grpc::ServerContext* context,
    const cloudlink::v1::ReloadClaimingStateRequest* request,
    cloudlink::v1::State* response) {
  if (absl::Status allowed =
          authorizer_->Authorize(*context, "ReloadClaimingState");
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  absl::Duration wait = request->wait_seconds() == 0
                            ? kDefaultReloadWait
                            : absl::Seconds(request->wait_seconds());
  wait = std::min(wait, kMaxReloadWait);
  ToProto(node_->ReloadClaimingState(wait), response);
  return grpc::Status::OK;
}

grpc::Status CloudLinkService::WatchState(
    grpc::ServerContext* context, const cloudlink::v1::WatchStateRequest*,
    grpc::ServerWriter<cloudlink::v1::State>* writer) {
  if (absl::Status allowed = authorizer_->Authorize(*context, "WatchState");
      !allowed.ok()) {
    return ToGrpcStatus(allowed);
  }
  auto [state, version] = node_->GetState();
  cloudlink::v1::State message;
  ToProto(state, &message);
  if (!writer->Write(message)) return grpc::Status::OK;
  // Monotonic: a wall-clock step back must not hold the next State back.
  MonotonicTime last_write = RealClock()->MonotonicNow();
  while (!context->IsCancelled() && !shutting_down_.load()) {
    auto [next, next_version] = node_->WaitForStateChange(version, kWatchPoll);
    if (next_version == version) continue;
    // Under publish load the counters change thousands of times a second:
    // coalesce, so a watcher gets at most one State per kWatchMinInterval,
    // always the newest.
    const absl::Duration since_write = RealClock()->MonotonicNow() - last_write;
    if (since_write < kWatchMinInterval) {
      absl::SleepFor(kWatchMinInterval - since_write);
      std::tie(next, next_version) = node_->GetState();
    }
    version = next_version;
    ToProto(next, &message);
    if (!writer->Write(message)) break;
    last_write = RealClock()->MonotonicNow();
  }
  return grpc::Status::OK;
}

grpc::ServerBidiReactor<cloudlink::v1::PublishRequest,
                        cloudlink::v1::PublishAck>*
CloudLinkService::Publish(grpc::CallbackServerContext* context) {
  return publish_streams_.Start(context,
                                authorizer_->Authorize(*context, "Publish"));
}

}  // namespace cloudlink::api

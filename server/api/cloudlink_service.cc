#include "server/api/cloudlink_service.h"

#include "server/api/grpc_status.h"
#include "server/api/publish_stream.h"
#include "server/api/state_proto.h"

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

grpc::ServerWriteReactor<cloudlink::v1::State>* CloudLinkService::WatchState(
    grpc::CallbackServerContext* context,
    const cloudlink::v1::WatchStateRequest*) {
  if (absl::Status allowed = authorizer_->Authorize(*context, "WatchState");
      !allowed.ok()) {
    return StateWatchers::Refuse(ToGrpcStatus(allowed));
  }
  absl::StatusOr<std::unique_ptr<StreamLimits::Lease>> lease =
      AcquireStream(*context);
  if (!lease.ok()) return StateWatchers::Refuse(ToGrpcStatus(lease.status()));
  return watchers_.Add(*std::move(lease));
}

absl::StatusOr<std::unique_ptr<StreamLimits::Lease>>
CloudLinkService::AcquireStream(const grpc::ServerContextBase& context) {
  absl::StatusOr<Authorizer::Caller> caller = authorizer_->Identify(context);
  if (!caller.ok()) return caller.status();
  return streams_.Acquire(context.peer(), caller->name, caller->root);
}

grpc::ServerBidiReactor<cloudlink::v1::PublishRequest,
                        cloudlink::v1::PublishAck>*
CloudLinkService::Publish(grpc::CallbackServerContext* context) {
  absl::Status allowed = authorizer_->Authorize(*context, "Publish");
  if (!allowed.ok()) return publish_streams_.Start(context, allowed);
  absl::StatusOr<std::unique_ptr<StreamLimits::Lease>> lease =
      AcquireStream(*context);
  if (!lease.ok()) return publish_streams_.Start(context, lease.status());
  return publish_streams_.Start(
      context, absl::OkStatus(),
      std::shared_ptr<StreamLimits::Lease>(*std::move(lease)));
}

}  // namespace cloudlink::api

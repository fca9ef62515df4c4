#pragma once

// The CloudLink gRPC service: validates nothing and decides nothing itself,
// it translates each RPC into a NodeController call and the result back.
// Every call first asks the Authorizer whether its caller may make it
// (authorizer.h) and answers its refusal unchanged. Streams (WatchState,
// Publish) then take a slot from the StreamLimits (stream_limits.h) and
// answer RESOURCE_EXHAUSTED STREAM_LIMIT_REACHED when there is none.
// WatchState uses gRPC's callback API (state_watchers.h): an open watch
// holds no thread.

#include <atomic>
#include <memory>

#include "cloudlink/v1/cloudlink.grpc.pb.h"
#include "server/api/authorizer.h"
#include "server/api/publish_stream.h"
#include "server/api/state_watchers.h"
#include "server/api/stream_limits.h"
#include "server/node/node_controller.h"
#include "server/publish/publisher.h"

namespace cloudlink::api {

class CloudLinkService final
    : public cloudlink::v1::CloudLink::WithCallbackMethod_WatchState<
          cloudlink::v1::CloudLink::WithCallbackMethod_Publish<
              cloudlink::v1::CloudLink::Service>> {
 public:
  // `node`, `authorizer` (required) and `publisher` (may be null: Publish
  // then acks every request with UNAVAILABLE) must outlive the service.
  // `caps` bound the open streams.
  CloudLinkService(node::NodeController* node, const Authorizer* authorizer,
                   publish::Publisher* publisher = nullptr,
                   StreamCaps caps = StreamCaps())
      : node_(node),
        authorizer_(authorizer),
        streams_(caps),
        watchers_(node),
        publish_streams_(publisher) {}

  // Ends open WatchState and Publish streams (called before the server
  // shuts down).
  void Shutdown() {
    shutting_down_.store(true);
    watchers_.Shutdown();
    publish_streams_.Shutdown();
  }

  // The stream caps, shared with the interceptor that applies them to
  // server reflection (api_server.cc).
  StreamLimits* stream_limits() { return &streams_; }
  const Authorizer* authorizer() const { return authorizer_; }

  grpc::Status Claim(grpc::ServerContext* context,
                     const cloudlink::v1::ClaimRequest* request,
                     cloudlink::v1::ClaimResponse* response) override;
  grpc::Status Reclaim(grpc::ServerContext* context,
                       const cloudlink::v1::ReclaimRequest* request,
                       cloudlink::v1::ReclaimResponse* response) override;
  grpc::Status RegenerateToken(
      grpc::ServerContext* context,
      const cloudlink::v1::RegenerateTokenRequest* request,
      cloudlink::v1::RegenerateTokenResponse* response) override;
  grpc::Status GetState(grpc::ServerContext* context,
                        const cloudlink::v1::GetStateRequest* request,
                        cloudlink::v1::State* response) override;
  grpc::Status ReloadClaimingState(
      grpc::ServerContext* context,
      const cloudlink::v1::ReloadClaimingStateRequest* request,
      cloudlink::v1::State* response) override;
  grpc::ServerWriteReactor<cloudlink::v1::State>* WatchState(
      grpc::CallbackServerContext* context,
      const cloudlink::v1::WatchStateRequest* request) override;
  // Served with gRPC's callback API; see server/api/publish_stream.h.
  grpc::ServerBidiReactor<cloudlink::v1::PublishRequest,
                          cloudlink::v1::PublishAck>*
  Publish(grpc::CallbackServerContext* context) override;

 private:
  // A stream slot for the caller of `context`.
  absl::StatusOr<std::unique_ptr<StreamLimits::Lease>> AcquireStream(
      const grpc::ServerContextBase& context);

  node::NodeController* const node_;
  const Authorizer* const authorizer_;
  std::atomic<bool> shutting_down_{false};
  StreamLimits streams_;
  StateWatchers watchers_;
  PublishStreams publish_streams_;
};

}  // namespace cloudlink::api

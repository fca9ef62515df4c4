#include "server/api/builtin_services_guard.h"

#include <grpcpp/server_context.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace cloudlink::api {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

class Guard : public grpc::experimental::Interceptor {
 public:
  Guard(ServerRpcInfo* info, const Authorizer* authorizer, StreamLimits* limits)
      : info_(info), authorizer_(authorizer), limits_(limits) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Check();
    }
    methods->Proceed();
  }

 private:
  void Check() {
    grpc::ServerContextBase* context = info_->server_context();
    if (context == nullptr) return;
    absl::string_view method = info_->method();
    absl::ConsumePrefix(&method, "/");
    if (!authorizer_->Authorize(*context, method).ok()) {
      context->TryCancel();
      return;
    }
    if (info_->type() == ServerRpcInfo::Type::UNARY) return;
    absl::StatusOr<Authorizer::Caller> caller = authorizer_->Identify(*context);
    if (!caller.ok()) {
      context->TryCancel();
      return;
    }
    absl::StatusOr<std::unique_ptr<StreamLimits::Lease>> lease =
        limits_->Acquire(context->peer(), caller->name, caller->root);
    if (!lease.ok()) {
      context->TryCancel();
      return;
    }
    lease_ = *std::move(lease);  // held until the call ends
  }

  ServerRpcInfo* const info_;
  const Authorizer* const authorizer_;
  StreamLimits* const limits_;
  std::unique_ptr<StreamLimits::Lease> lease_;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  Factory(const Authorizer* authorizer, StreamLimits* limits)
      : authorizer_(authorizer), limits_(limits) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      ServerRpcInfo* info) override {
    if (absl::StartsWith(info->method(), "/cloudlink.v1.CloudLink/")) {
      return nullptr;
    }
    return new Guard(info, authorizer_, limits_);
  }

 private:
  const Authorizer* const authorizer_;
  StreamLimits* const limits_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
BuiltinServicesGuardFactory(const Authorizer* authorizer,
                            StreamLimits* limits) {
  return std::make_unique<Factory>(authorizer, limits);
}

}  // namespace cloudlink::api

#include "server/api/malformed_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/api/grpc_status.h"
#include "server/common/error.h"

namespace cloudlink::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

class MalformedRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(std::string method)
      : method_(std::move(method)) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::INTERNAL &&
          status.error_message().empty()) {
        methods->ModifySendStatus(ToGrpcStatus(Error(
            absl::StatusCode::kInvalidArgument, reason::kRequestMalformed,
            absl::StrCat("the ", method_,
                         " request did not parse: every string field must be "
                         "valid UTF-8 (send raw bytes base64-encoded), and "
                         "the body must be a message of the method's type; "
                         "nothing was done"))));
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Unary calls only: on streams a failed parse does not reach a status
    // (see the header), and the Publish stream would pay for the
    // interceptor on every message.
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) {
      return nullptr;
    }
    return new MalformedRequestInterceptor(info->method());
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MalformedRequestInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace cloudlink::api

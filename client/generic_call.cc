#include "client/generic_call.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"
#include "server/common/error.h"
#include "server/common/happens_before.h"
#include "server/common/mutex.h"

namespace cloudlink::client {
namespace {

// The callback-API reactor of one call, with blocking operations on top: at
// most one Write/WritesDone and one Read may be in progress at a time, from
// different threads. A hold keeps OnDone from running before Finish(), so
// operations may be started until then.
class BlockingStream
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  BlockingStream(grpc::GenericStub* stub, grpc::ClientContext* context,
                 const std::string& method) {
    stub->PrepareBidiStreamingCall(context, method, grpc::StubOptions(), this);
    AddHold();
    HappensBefore(this);
    StartCall();
  }

  bool Write(grpc::ByteBuffer buffer) {
    write_buffer_ = std::move(buffer);
    {
      MutexLock lock(&mu_);
      write_done_ = false;
    }
    HappensBefore(this);
    StartWrite(&write_buffer_);
    return AwaitWrite();
  }

  bool WritesDone() {
    {
      MutexLock lock(&mu_);
      write_done_ = false;
    }
    HappensBefore(this);
    StartWritesDone();
    return AwaitWrite();
  }

  bool Read(grpc::ByteBuffer* buffer) {
    {
      MutexLock lock(&mu_);
      read_done_ = false;
    }
    HappensBefore(this);
    StartRead(buffer);
    MutexLock lock(&mu_);
    mu_.Await(&read_done_);
    return read_ok_;
  }

  grpc::Status Finish() {
    HappensBefore(this);
    RemoveHold();
    MutexLock lock(&mu_);
    mu_.Await(&done_);
    return status_;
  }

  // gRPC runs these on its threads; see happens_before.h.
  void OnWriteDone(bool ok) override {
    HappensAfter(this);
    SetWriteDone(ok);
  }
  void OnWritesDoneDone(bool ok) override {
    HappensAfter(this);
    SetWriteDone(ok);
  }
  void OnReadDone(bool ok) override {
    HappensAfter(this);
    MutexLock lock(&mu_);
    read_ok_ = ok;
    read_done_ = true;
  }
  void OnDone(const grpc::Status& status) override {
    HappensAfter(this);
    MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

 private:
  bool AwaitWrite() {
    MutexLock lock(&mu_);
    mu_.Await(&write_done_);
    return write_ok_;
  }
  void SetWriteDone(bool ok) {
    MutexLock lock(&mu_);
    write_ok_ = ok;
    write_done_ = true;
  }

  grpc::ByteBuffer write_buffer_;
  Mutex mu_;
  bool write_done_ ABSL_GUARDED_BY(mu_) = false;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  bool read_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

grpc::ByteBuffer Serialize(const google::protobuf::Message& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

bool Parse(const grpc::ByteBuffer& buffer, google::protobuf::Message* message) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return message->ParseFromString(bytes);
}

}  // namespace

std::string MethodPath(const google::protobuf::MethodDescriptor* method) {
  return absl::StrCat("/", method->service()->full_name(), "/", method->name());
}

CallResult CallMethod(const std::shared_ptr<grpc::Channel>& channel,
                      const google::protobuf::MethodDescriptor* method,
                      const RequestSource& next_request,
                      const ResponseSink& on_response, absl::Duration timeout) {
  CallResult result;
  grpc::ClientContext context;
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  grpc::GenericStub stub(channel);
  BlockingStream stream(&stub, &context, MethodPath(method));

  // Requests go out on their own thread so that a blocking request source
  // (standard input) does not hold up responses of a bidirectional stream.
  Mutex error_mu;
  absl::Status request_error;
  std::thread writer([&] {
    while (true) {
      absl::StatusOr<std::unique_ptr<google::protobuf::Message>> request =
          next_request();
      if (!request.ok()) {
        {
          MutexLock lock(&error_mu);
          request_error = request.status();
        }
        context.TryCancel();
        return;
      }
      if (*request == nullptr) break;
      if (!stream.Write(Serialize(**request))) return;  // the call is over
    }
    stream.WritesDone();
  });

  google::protobuf::DynamicMessageFactory factory;
  factory.SetDelegateToGeneratedFactory(true);
  const google::protobuf::Message* prototype =
      factory.GetPrototype(method->output_type());
  grpc::ByteBuffer buffer;
  while (stream.Read(&buffer)) {
    std::unique_ptr<google::protobuf::Message> response(prototype->New());
    if (!Parse(buffer, response.get())) {
      result.local_error =
          Error(absl::StatusCode::kInternal, reason::kBadResponse,
                absl::StrCat("a response of ", method->full_name(),
                             " did not parse as ",
                             method->output_type()->full_name()));
      context.TryCancel();
      break;
    }
    ++result.responses;
    on_response(*response);
  }
  writer.join();
  result.status = stream.Finish();
  MutexLock lock(&error_mu);
  if (!request_error.ok()) result.local_error = request_error;
  return result;
}

}  // namespace cloudlink::client

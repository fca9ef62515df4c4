// One publish socket connection (server/publish_socket/connection.h) fed
// by a hostile producer: the bytes arrive in chunks over a socketpair, then
// the producer half-closes and the test completes every queued message, as
// the link would.
//
// Input: byte 0 picks the chunk size (1 + byte); the rest is what the
// producer sends. Checks: every reply frame parses; the stream ends, once,
// with the last frame, with OK or one of the documented errors
// (REQUEST_MALFORMED, FRAME_TOO_LARGE, DEADLINE_EXCEEDED for a hello's
// timeout); nothing is left in the queue.

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cloudlink/v1/cloudlink.pb.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "server/api/wait_pool.h"
#include "server/publish/completion_batch.h"
#include "server/publish/publish_queue.h"
#include "server/publish/publisher.h"
#include "server/publish_socket/connection.h"
#include "server/publish_socket/frame.h"

namespace cloudlink::fuzz {
namespace {

void Run(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const size_t chunk = 1 + in.Byte();
  const std::string sent = in.Rest();

  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) !=
      0) {
    return;
  }
  publish::QueueOptions options;
  options.release_memory = nullptr;
  publish::PublishQueue queue(options);
  publish::Publisher publisher(&queue, nullptr);
  publisher.SetTopicNames({"t", "node-instance-info"});
  static api::WaitPool pool;
  std::atomic<bool> shutting_down{false};
  publish_socket::ConnectionContext context;
  context.publisher = &publisher;
  context.wait_pool = &pool;
  context.shutting_down = &shutting_down;
  auto connection = std::make_shared<publish_socket::Connection>(
      fds[0], &context, [](std::shared_ptr<publish_socket::Connection>) {});

  auto complete = [&] {
    std::vector<publish::Message> batch = queue.TakeBatch(1 << 20, 1 << 30);
    publish::CompletionBatch pass;
    for (publish::Message& m : batch) m.done(absl::OkStatus());
  };
  bool done = false;
  for (size_t at = 0; at < sent.size() && !done; at += chunk) {
    const std::string piece = sent.substr(at, chunk);
    if (write(fds[1], piece.data(), piece.size()) < 0) break;
    done = !connection->Service(EPOLLIN).has_value();
    complete();
  }
  shutdown(fds[1], SHUT_WR);
  for (int round = 0; round < 4 && !done; ++round) {
    done = !connection->Service(EPOLLIN).has_value();
    complete();
  }
  FUZZ_CHECK(done, "the stream did not end after the half-close");
  connection->Close();
  complete();
  FUZZ_CHECK(queue.stats().queued == 0, "messages left in the queue");

  publish_socket::FrameReader reader;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fds[1], buffer, sizeof(buffer))) > 0) {
    reader.Append(absl::string_view(buffer, static_cast<size_t>(n)));
  }
  bool ended = false;
  while (true) {
    auto frame = reader.Next();
    FUZZ_CHECK(frame.ok(), "a reply frame over the limit");
    if (!frame->has_value()) break;
    FUZZ_CHECK(!ended, "a frame after the end");
    cloudlink::v1::PublishSocketReply reply;
    FUZZ_CHECK(reply.ParseFromArray((*frame)->data(),
                                    static_cast<int>((*frame)->size())),
               "a reply that does not parse");
    if (reply.has_end()) {
      ended = true;
      const std::string& message = reply.end().message();
      FUZZ_CHECK(
          reply.end().code() == 0 ||
              reply.end().code() ==
                  static_cast<int>(absl::StatusCode::kDeadlineExceeded) ||
              message.rfind("REQUEST_MALFORMED: ", 0) == 0 ||
              message.rfind("FRAME_TOO_LARGE: ", 0) == 0,
          message);
    } else {
      FUZZ_CHECK(reply.has_ack(), "a reply that is neither ack nor end");
    }
  }
  FUZZ_CHECK(ended, "no end frame");
  FUZZ_CHECK(reader.buffered() == 0, "a cut reply frame");
  connection.reset();
  close(fds[1]);
}

}  // namespace
}  // namespace cloudlink::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cloudlink::fuzz::Run(data, size);
  return 0;
}

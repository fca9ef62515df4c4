#pragma once

// The producer's end of a publish socket connection, played by hand: it
// writes whatever bytes or frames a test tells it to (also what the producer
// library never would) and reads cloudlinkd's replies. For the tests of the
// publish socket, from the Connection's unit test to the real daemon.
//
// Every read is bounded: the constructor sets SO_RCVTIMEO on the socket.

#include <string>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "google/protobuf/message_lite.h"
#include "server/publish_socket/frame.h"

namespace cloudlink::publish_socket {

class RawProducer {
 public:
  // Owns `fd`, a connected stream socket (-1: not connected); reads wait
  // at most `read_bound`.
  explicit RawProducer(int fd, absl::Duration read_bound = absl::Seconds(20));
  // Connects to the Unix socket at `path`; connected() says whether it did.
  static RawProducer Connect(const std::string& path,
                             absl::Duration read_bound = absl::Seconds(20));
  ~RawProducer();  // closes
  RawProducer(RawProducer&& other);
  RawProducer& operator=(RawProducer&&) = delete;
  RawProducer(const RawProducer&) = delete;
  RawProducer& operator=(const RawProducer&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  // The producer vanishes: closes the socket now.
  void Close();

  // Writes all of `bytes` (blocking); false when the socket refused them.
  bool Write(const std::string& bytes);
  // One frame holding `message`.
  bool Send(const google::protobuf::MessageLite& message);
  // PublishSocketHello version 1, with `timeout` when it is positive.
  bool Hello(absl::Duration timeout = absl::ZeroDuration());

  // The next reply; nullopt at the end of the stream, on a frame that is not
  // a PublishSocketReply, or when the read bound passed.
  absl::optional<cloudlink::v1::PublishSocketReply> Reply();
  // Reads replies until the end frame and returns it (nullopt: none came).
  absl::optional<cloudlink::v1::PublishSocketReply> End();

 private:
  int fd_ = -1;
  bool connected_ = false;
  FrameReader reader_;
};

}  // namespace cloudlink::publish_socket

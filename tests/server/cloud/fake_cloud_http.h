#pragma once

// An http::HttpClient that plays the cloud's side of the link's HTTPS calls
// (server/cloud/cloud_api.h) for any claim id: env names `mqtt_endpoint`;
// the challenge is a secret encrypted to NodeKeyPem()'s public key; the
// password answer gives the MQTT client id = the claim id, so the CONNECT a
// test sees names the claim that logged in. A test can hold the next
// request whose URL contains a given part until it releases it, to post
// commands while the link is inside an HTTPS call.
//
// Thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/mutex.h"
#include "server/http/http_client.h"

namespace cloudlink::testing {

class FakeCloudHttp : public http::HttpClient {
 public:
  explicit FakeCloudHttp(std::string mqtt_endpoint = "wss://mqtt.test/mqtt")
      : mqtt_endpoint_(std::move(mqtt_endpoint)) {}

  // The node's private key (PEM, RSA 2048), made once per process.
  static const std::string& NodeKeyPem();
  // `plaintext` encrypted to that key as the cloud encrypts its challenge
  // (RSA-OAEP with SHA-1); "" if OpenSSL fails.
  static std::string EncryptToNode(const std::string& plaintext);

  // The next request whose URL contains `url_part` waits in Send() until
  // Release().
  void HoldNext(std::string url_part);
  // Waits up to `timeout` for a request to be held; true when one is.
  bool WaitHeld(absl::Duration timeout);
  void Release();

  // The URLs asked for, in order.
  std::vector<std::string> urls() const;

  absl::StatusOr<http::HttpResponse> Send(
      const http::HttpRequest& request,
      const http::TransportOptions& options) override;

 private:
  const std::string mqtt_endpoint_;
  mutable Mutex mu_;
  std::string hold_part_ ABSL_GUARDED_BY(mu_);
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> urls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cloudlink::testing

#pragma once

// What the local HTTP endpoint answers, apart from sockets: routing, the
// security headers, the Host and Origin checks, parameter validation, the
// claim key check and the JSON. web_server.h carries requests here from
// the network; tests call Handle() directly.
//
// Routes (docs/web.md documents them for users):
//   GET  /, /app.js, /app.css       the embedded page (page_assets.h)
//   GET  /api/v3/info               {"cloud": {...}, "agent": {...}}
//   GET  /api/v3/claim, /api/v2/claim   the claim-by-key exchange: query
//   POST /api/v3/claim, /api/v2/claim   parameters, or a JSON object body
//
// The claim exchange, as the Netdata Agent's:
//   - without `key`: {"cloud", "agent", "can_be_claimed", "key_filename"
//     (only when it can be claimed)};
//   - with `key`: a wrong key is 403 "invalid key"; a missing `token` or
//     `url`, or a `key`, `token`, `url` or `rooms` with a character outside
//     [A-Za-z0-9.,:/_-], is 400 "invalid parameters"; otherwise the node
//     claims (reclaims when it is claimed but offline) and waits up to
//     claim_wait for online, and the answer is {"cloud", "agent",
//     "can_be_claimed", "success", "message", "error_reason"}. After every
//     request with a key, right or wrong, the key is rotated.
//
// Hardening: every answer carries a Content-Security-Policy without inline
// script, X-Frame-Options DENY, X-Content-Type-Options nosniff and
// Referrer-Policy no-referrer; API answers carry Cache-Control no-store. A
// claim request with a foreign Origin (or a cross-site Sec-Fetch-Site) is
// 403 "foreign origin"; with check_host, a Host that is not a loopback name
// is 403 "host not allowed" on every path (DNS rebinding). The token is
// never written to an answer or the log.
//
// Thread-safe: Handle may run on several threads at once.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/common/clock.h"
#include "server/node/node_controller.h"
#include "server/node/node_state.h"
#include "server/web/claim_key.h"

namespace cloudlink::web {

// A request, as the server parsed it.
struct WebRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  // Decoded query parameters (the first value of each name).
  std::map<std::string, std::string> params;
  // Header values ("" when absent).
  std::string host;
  std::string origin;
  std::string sec_fetch_site;
  std::string content_type;
  std::string body;
};

struct WebResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // Every header besides Content-Type and Content-Length.
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of header `name` (case-sensitive as written here), "" when
  // absent.
  std::string Header(const std::string& name) const;
};

// The node, as the handler uses it; NodeController implements it through
// ControllerWebNode (below). Implementations are thread-safe.
class WebNode {
 public:
  virtual ~WebNode() = default;
  // The state and its version (NodeController::GetState).
  virtual std::pair<node::NodeState, uint64_t> GetState() const = 0;
  // NodeController::WaitForStateChange.
  virtual std::pair<node::NodeState, uint64_t> WaitForStateChange(
      uint64_t seen_version, absl::Duration timeout) const = 0;
  // Claims an unclaimed node (NodeController::Claim).
  virtual absl::Status Claim(const node::ClaimArgs& args) = 0;
  // Claims a claimed node anew, keeping its machine GUID
  // (NodeController::Reclaim without a new identity).
  virtual absl::Status Reclaim(const node::ClaimArgs& args) = 0;
};

// A WebNode backed by a NodeController, which must outlive it.
class ControllerWebNode : public WebNode {
 public:
  explicit ControllerWebNode(node::NodeController* node) : node_(node) {}
  std::pair<node::NodeState, uint64_t> GetState() const override;
  std::pair<node::NodeState, uint64_t> WaitForStateChange(
      uint64_t seen_version, absl::Duration timeout) const override;
  absl::Status Claim(const node::ClaimArgs& args) override;
  absl::Status Reclaim(const node::ClaimArgs& args) override;

 private:
  node::NodeController* const node_;
};

struct WebHandlerOptions {
  // Refuse a Host header that is not a loopback name (localhost,
  // 127.0.0.0/8, [::1], with any port). On when listening on loopback.
  bool check_host = true;
  // How long a successful claim waits for the node to be online.
  absl::Duration claim_wait = absl::Seconds(10);
  // Wall time for `since`/`age`, monotonic time for the claim wait. Must
  // outlive the handler.
  Clock* clock = RealClock();
};

class WebHandler {
 public:
  // `node` and `key` must outlive the handler.
  WebHandler(WebHandlerOptions options, WebNode* node, ClaimKey* key);

  WebResponse Handle(const WebRequest& request) const;

 private:
  WebResponse Info() const;
  WebResponse ClaimExchange(const WebRequest& request) const;

  const WebHandlerOptions options_;
  WebNode* const node_;
  ClaimKey* const key_;
};

// Whether `value` is a claim parameter the Agent accepts: only
// [A-Za-z0-9.,:/_-] (the empty string is one).
bool IsValidClaimParameter(const std::string& value);

// Whether a Host header names a loopback address: localhost, an IPv4 address
// in 127.0.0.0/8 or [::1], each with or without a port.
bool IsLoopbackHost(const std::string& host);

}  // namespace cloudlink::web

#include "server/web/web_handler.h"

#include <arpa/inet.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/web/cloud_json.h"
#include "server/web/page_assets.h"

namespace cloudlink::web {
namespace {

// No inline script or style, nothing from elsewhere, no framing.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";

WebResponse Text(int status, const std::string& text) {
  WebResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = text + "\n";
  return r;
}

WebResponse Json(const nlohmann::json& body) {
  WebResponse r;
  r.content_type = "application/json; charset=utf-8";
  r.body = body.dump(2) + "\n";
  return r;
}

// The claim values of a request: query parameters for GET, a JSON object
// for POST. Values that are empty count as absent, as with the Agent.
struct ClaimParams {
  std::string key;
  std::string token;
  std::string rooms;
  std::string url;
};

// False when a POST body is not a JSON object of strings (rooms may also be
// an array of strings).
bool ReadClaimParams(const WebRequest& request, ClaimParams* out) {
  if (request.method != "POST") {
    auto get = [&request](const char* name) {
      auto it = request.params.find(name);
      return it == request.params.end() ? std::string() : it->second;
    };
    out->key = get("key");
    out->token = get("token");
    out->rooms = get("rooms");
    out->url = get("url");
    return true;
  }
  if (request.body.empty()) return true;
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object()) return false;
  for (auto& [name, value] : body.items()) {
    std::string* field = name == "key"     ? &out->key
                         : name == "token" ? &out->token
                         : name == "rooms" ? &out->rooms
                         : name == "url"   ? &out->url
                                           : nullptr;
    if (field == nullptr) continue;
    if (value.is_string()) {
      *field = value.get<std::string>();
    } else if (name == "rooms" && value.is_array()) {
      std::vector<std::string> rooms;
      for (const auto& room : value) {
        if (!room.is_string()) return false;
        rooms.push_back(room.get<std::string>());
      }
      *field = absl::StrJoin(rooms, ",");
    } else if (!value.is_null()) {
      return false;
    }
  }
  return true;
}

// Whether a claim request comes from a page of this endpoint (or from no
// page at all, e.g. curl).
bool SameOriginOrNone(const WebRequest& request) {
  if (!request.sec_fetch_site.empty() &&
      request.sec_fetch_site != "same-origin" &&
      request.sec_fetch_site != "none") {
    return false;
  }
  if (request.origin.empty()) return true;
  return request.origin == absl::StrCat("http://", request.host);
}

// `text` without any copy of `secret`.
std::string Without(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  return absl::StrReplaceAll(text, {{secret, "[redacted]"}});
}

}  // namespace

std::string WebResponse::Header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

std::pair<node::NodeState, uint64_t> ControllerWebNode::GetState() const {
  return node_->GetState();
}

std::pair<node::NodeState, uint64_t> ControllerWebNode::WaitForStateChange(
    uint64_t seen_version, absl::Duration timeout) const {
  return node_->WaitForStateChange(seen_version, timeout);
}

absl::Status ControllerWebNode::Claim(const node::ClaimArgs& args) {
  return node_->Claim(args).status();
}

absl::Status ControllerWebNode::Reclaim(const node::ClaimArgs& args) {
  return node_->Reclaim(/*new_identity=*/false, args).status();
}

bool IsValidClaimParameter(const std::string& value) {
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != ',' && c != ':' && c != '/' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsLoopbackHost(const std::string& host) {
  std::string name = host;
  if (absl::StartsWith(name, "[")) {
    const size_t end = name.find(']');
    if (end == std::string::npos) return false;
    const std::string rest = name.substr(end + 1);
    int port = 0;
    if (!rest.empty() &&
        !(rest[0] == ':' && absl::SimpleAtoi(rest.substr(1), &port))) {
      return false;
    }
    return name.substr(1, end - 1) == "::1";
  }
  const size_t colon = name.rfind(':');
  if (colon != std::string::npos) {
    int port = 0;
    if (!absl::SimpleAtoi(name.substr(colon + 1), &port)) return false;
    name = name.substr(0, colon);
  }
  if (absl::AsciiStrToLower(name) == "localhost") return true;
  in_addr addr;
  if (inet_pton(AF_INET, name.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24) == 127;
}

WebHandler::WebHandler(WebHandlerOptions options, WebNode* node, ClaimKey* key)
    : options_(std::move(options)), node_(node), key_(key) {}

WebResponse WebHandler::Handle(const WebRequest& request) const {
  WebResponse response;
  const bool claim_path =
      request.path == "/api/v3/claim" || request.path == "/api/v2/claim";
  const bool api = claim_path || request.path == "/api/v3/info";
  if (options_.check_host && !IsLoopbackHost(request.host)) {
    response = Text(403, "host not allowed");
  } else if (claim_path) {
    if (request.method != "GET" && request.method != "POST") {
      response = Text(405, "method not allowed");
      response.headers.emplace_back("Allow", "GET, POST");
    } else if (!SameOriginOrNone(request)) {
      LogWarning("HTTP: a claim request from a foreign origin was refused");
      response = Text(403, "foreign origin");
    } else {
      response = ClaimExchange(request);
    }
  } else if (request.method != "GET" && request.method != "HEAD") {
    response = Text(405, "method not allowed");
    response.headers.emplace_back("Allow", "GET");
  } else if (request.path == "/api/v3/info") {
    response = Info();
  } else if (const PageAsset* asset = FindPageAsset(request.path)) {
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->body);
    response.headers.emplace_back("Cache-Control", "no-cache");
  } else {
    response = Text(404, "not found");
  }
  response.headers.emplace_back("Content-Security-Policy",
                                kContentSecurityPolicy);
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (api) response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

WebResponse WebHandler::Info() const {
  const node::NodeState state = node_->GetState().first;
  return Json({{"cloud", CloudJson(state, options_.clock->WallNow())},
               {"agent", AgentJson(state)}});
}

WebResponse WebHandler::ClaimExchange(const WebRequest& request) const {
  if (request.method == "POST" &&
      !absl::StartsWith(absl::AsciiStrToLower(request.content_type),
                        "application/json")) {
    return Text(415, "a POST body must be application/json");
  }
  ClaimParams params;
  const bool parsed = ReadClaimParams(request, &params);
  auto [state, version] = node_->GetState();
  const bool can_be_claimed = CanBeClaimed(state);
  if (!parsed && params.key.empty()) {
    return Text(400, "invalid parameters");
  }
  if (params.key.empty()) {
    nlohmann::json answer = {
        {"cloud", CloudJson(state, options_.clock->WallNow())},
        {"agent", AgentJson(state)},
        {"can_be_claimed", can_be_claimed}};
    if (can_be_claimed) answer["key_filename"] = key_->path();
    return Json(answer);
  }

  // An attempt: whatever happens below, the key it used is spent.
  absl::Status rotated;
  const bool key_ok = key_->Spend(params.key, &rotated);
  if (!rotated.ok()) LogError(absl::StrCat("HTTP: ", rotated.message()));
  if (!key_ok) {
    LogWarning("HTTP: a claim request with a wrong key was refused");
    return Text(403, "invalid key");
  }
  if (!parsed || params.token.empty() || params.url.empty() ||
      !IsValidClaimParameter(params.token) ||
      !IsValidClaimParameter(params.url) ||
      !IsValidClaimParameter(params.rooms)) {
    LogWarning("HTTP: a claim request with invalid parameters was refused");
    return Text(400, "invalid parameters");
  }

  bool success = false;
  std::string message;
  std::string error_reason;
  if (!can_be_claimed) {
    message = state.status == node::kStatusBanned
                  ? "the node is banned by the cloud; it cannot be claimed "
                    "from this page"
                  : "the node is online; it cannot be claimed again from "
                    "this page";
    error_reason = "";
  } else {
    node::ClaimArgs args;
    args.token = params.token;
    args.url = params.url;
    if (!params.rooms.empty()) {
      args.rooms = absl::StrSplit(params.rooms, ',', absl::SkipEmpty());
    }
    const bool reclaim = state.claimed;
    LogInfo(absl::StrCat("HTTP: ", reclaim ? "reclaiming" : "claiming",
                         " the node from the local page, url ", params.url));
    absl::Status claimed = reclaim ? node_->Reclaim(args) : node_->Claim(args);
    if (claimed.ok()) {
      success = true;
      message = "ok";
      // Wait for online (bounded), as the Agent does before it answers.
      const MonotonicTime deadline =
          options_.clock->MonotonicNow() + options_.claim_wait;
      std::tie(state, version) = node_->GetState();
      while (state.status != node::kStatusOnline) {
        const absl::Duration left = deadline - options_.clock->MonotonicNow();
        if (left <= absl::ZeroDuration()) break;
        std::tie(state, version) = node_->WaitForStateChange(version, left);
      }
      LogInfo(absl::StrCat("HTTP: claimed from the local page; the node is ",
                           state.status));
    } else {
      message = Without(std::string(claimed.message()), params.token);
      error_reason = ReasonOf(claimed);
      LogWarning(absl::StrCat("HTTP: the claim from the local page failed: ",
                              message));
    }
  }
  state = node_->GetState().first;
  nlohmann::json answer = {
      {"cloud", CloudJson(state, options_.clock->WallNow())},
      {"agent", AgentJson(state)},
      {"can_be_claimed", CanBeClaimed(state)},
      {"success", success},
      {"message", message},
      {"error_reason", error_reason}};
  if (CanBeClaimed(state)) answer["key_filename"] = key_->path();
  return Json(answer);
}

}  // namespace cloudlink::web

#include "server/node/node_reason.h"

#include "server/common/error.h"
#include "server/common/redact.h"
#include "server/config/proxy.h"

namespace cloudlink::node {

std::string ConfigErrorText(const config::ClaimSourcesResult& sources) {
  std::string text;
  if (!sources.claim_conf_error.ok()) {
    text = std::string(sources.claim_conf_error.message());
  }
  if (!sources.env_error.ok()) {
    if (!text.empty()) text += "; ";
    text += std::string(sources.env_error.message());
  }
  return text;
}

std::string ConfigErrorReason(const config::ClaimSourcesResult& sources) {
  return ReasonOf(sources.claim_conf_error.ok() ? sources.env_error
                                                : sources.claim_conf_error);
}

void SetReason(NodeState* state, const absl::Status& why) {
  state->reason = std::string(why.message());
  state->reason_name = ReasonOf(why);
}

void SetReason(NodeState* state, const Reason& reason,
               absl::string_view sentence) {
  state->reason = ErrorText(reason, sentence);
  state->reason_name = std::string(reason.name);
}

std::string RedactedProxy(absl::string_view raw) {
  absl::StatusOr<config::ProxyConfig> proxy = config::ParseProxy(raw);
  if (!proxy.ok()) return RedactUrlCredentials(raw);
  return proxy->Redacted();
}

}  // namespace cloudlink::node

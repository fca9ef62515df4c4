#include "server/node/token_regeneration.h"

#include "absl/strings/str_cat.h"
#include "server/claim/token_regenerator.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/status_macros.h"
#include "server/config/claim_inputs.h"
#include "server/config/ini_file.h"
#include "server/http/transport_for.h"

namespace cloudlink::node {
namespace {

constexpr mode_t kClaimConfMode = 0640;

}  // namespace

absl::StatusOr<RegenerateOutcome> RegenerateTokenAndClaimConf(
    const RegenerateArgs& args, const RegenerateContext& context) {
  state::FileSystem* const fs = context.fs;
  // Defaults: the claim's url and proxy, else claim.conf's / the env's.
  std::string url = args.url;
  std::string proxy = args.proxy;
  if (context.stored.has_value() && context.stored->has_cloud_conf) {
    if (url.empty()) url = context.stored->cloud_conf.url;
    if (proxy.empty()) proxy = context.stored->cloud_conf.proxy;
  }
  if (context.sources.inputs) {
    if (url.empty()) url = context.sources.inputs->url;
    if (proxy.empty()) proxy = context.sources.inputs->proxy;
  }
  if (url.empty()) url = config::kDefaultCloudUrl;
  if (proxy.empty()) proxy = config::kDefaultProxy;
  url = config::CanonicalCloudUrl(url);
  RETURN_IF_ERROR(config::ValidateClaimUrl(url));
  RETURN_IF_ERROR(config::ValidateClaimProxy(proxy));

  ASSIGN_OR_RETURN(http::TransportOptions transport,
                   http::TransportFor(proxy, context.env, url, args.insecure,
                                      context.cloud_ca));
  // The cloud revokes the old token the moment it issues a new one, so
  // everything that can be checked is checked first: a claim.conf that
  // cannot be read or does not parse fails here, with nothing changed.
  const std::string path = context.config_dir + "/claim.conf";
  std::string claim_conf_text;
  if (args.update_claim_conf) {
    absl::StatusOr<std::string> text = fs->ReadFile(path);
    if (!text.ok() && !absl::IsNotFound(text.status())) {
      return Error(
          absl::StatusCode::kFailedPrecondition, reason::kClaimConfWriteFailed,
          absl::StrCat(path, " cannot be read (", text.status().message(),
                       "); nothing was changed and the token was not "
                       "regenerated: fix the file, or call without "
                       "update_claim_conf"));
    }
    if (text.ok()) claim_conf_text = *std::move(text);
    absl::StatusOr<std::string> check =
        config::SetIniValue(claim_conf_text, path, "global", "token", "check");
    if (!check.ok()) {
      return Error(absl::StatusCode::kFailedPrecondition,
                   reason::kClaimConfWriteFailed,
                   absl::StrCat(check.status().message(),
                                "; nothing was changed and the token was not "
                                "regenerated"));
    }
  }
  claim::RegenerateParams params;
  params.url = url;
  params.space_id = args.space_id;
  params.api_token = args.api_token;
  params.transport = transport;
  ASSIGN_OR_RETURN(std::string token,
                   claim::RegenerateClaimToken(context.http, params));

  RegenerateOutcome outcome;
  outcome.token = token;
  if (args.update_claim_conf) {
    absl::StatusOr<std::string> updated =
        config::SetIniValue(claim_conf_text, path, "global", "token", token);
    absl::Status written = updated.ok() ? fs->MakeDirs(context.config_dir, 0755)
                                        : updated.status();
    if (written.ok()) {
      // The file keeps its owner, group and mode (an administrator's 0600
      // root:grp stays that); a new one gets kClaimConfMode.
      absl::StatusOr<state::FileOwnership> ownership = fs->Ownership(path);
      if (ownership.ok()) {
        written = fs->WriteFileAtomicWithOwnership(path, *updated, *ownership);
      } else if (absl::IsNotFound(ownership.status())) {
        written = fs->WriteFileAtomic(path, *updated, kClaimConfMode);
      } else {
        written = ownership.status();
      }
    }
    if (!written.ok()) {
      // The old token is gone: the answer still carries the new one, with
      // claim_conf_updated=false and why.
      LogError(absl::StrCat("CLAIM: could not update ", path, ": ",
                            written.message()));
      outcome.claim_conf_error = ErrorText(
          reason::kClaimConfWriteFailed,
          absl::StrCat("the new token was issued (the old one no longer "
                       "works) but ",
                       path, " could not be updated (", written.message(),
                       "); put the token from this answer in it"));
      return outcome;
    }
    outcome.claim_conf_updated = true;
    LogInfo(absl::StrCat("CLAIM: wrote the new token into ", path));
  }
  return outcome;
}

}  // namespace cloudlink::node

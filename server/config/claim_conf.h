#pragma once

// claim.conf, the operator's claim settings:
//
//   [global]
//       url = https://app.netdata.cloud
//       token = NETDATA_CLOUD_SPACE_TOKEN
//       rooms = ROOM_KEY1,ROOM_KEY2
//       proxy = http://username:password@myproxy:8080
//       insecure = no
//
// Only the section [global] and these five keys are allowed; each at most
// once. token is required. A missing key takes its default (url
// https://app.netdata.cloud, no rooms, proxy "env", insecure no); an empty
// `url =` or `insecure =` does too, while an empty `proxy =` means direct
// (as in Netdata's claim.conf). The url loses trailing '/'.
//
// Every error names the file and, where there is one, the line:
//   CONFIG_INVALID: /etc/cloudlink/claim.conf:4: unknown key 'tokn'; ...
//   PROXY_UNSUPPORTED: /etc/cloudlink/claim.conf:6: TLS to the proxy ...
// Field errors keep the reasons of claim_inputs.h. No message contains the
// token or a proxy password.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/config/claim_inputs.h"

namespace cloudlink::config {

inline constexpr char kClaimConfName[] = "claim.conf";

// Parses and validates claim.conf text; `path` is used in messages. The
// result has source "claim.conf". Pure, thread-safe.
absl::StatusOr<ClaimInputs> ParseClaimConf(absl::string_view text,
                                           absl::string_view path);

// Reads `path` (config_file.h) and parses it. An empty optional when the file
// does not exist (that is not an error); CONFIG_UNREADABLE when it cannot be
// read; otherwise ParseClaimConf's result. Thread-safe.
absl::StatusOr<absl::optional<ClaimInputs>> LoadClaimConf(
    const std::string& path);

}  // namespace cloudlink::config

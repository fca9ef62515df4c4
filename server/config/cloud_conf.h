#pragma once

// cloud.d/cloud.conf, written by cloudlinkd after a successful claim:
//
//   # Written by cloudlinkd after a successful claim; ...
//   [global]
//       url = https://app.netdata.cloud
//       proxy = env
//       token = ...
//       rooms = room1,room2
//       insecure = no
//       machine_guid = <uuid>
//       claimed_id = <uuid>
//       hostname = node1
//       source = claim.conf
//
// This file is ours, so parsing is forward compatible: unknown keys and
// unknown sections are ignored (a newer version may add some), missing keys
// keep the struct's defaults. Known keys are checked: each at most once,
// insecure a boolean (values.h), machine_guid and claimed_id UUIDs when not
// empty. The state part decides which keys a usable claim needs.
//
// Parse(Serialize(conf)) == conf and Serialize(Parse(Serialize(conf))) ==
// Serialize(conf) for every conf Serialize accepts. Pure, thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cloudlink::config {

struct CloudConf {
  std::string url;
  std::string proxy;  // the raw setting used for the claim, e.g. "env"
  std::string token;  // a secret
  std::vector<std::string> rooms;
  bool insecure = false;
  std::string machine_guid;
  std::string claimed_id;
  std::string hostname;
  // Where the claim's inputs came from: "claim.conf", "env" or "rpc"; ""
  // in files written before it was recorded.
  std::string source;

  friend bool operator==(const CloudConf& a, const CloudConf& b) {
    return a.url == b.url && a.proxy == b.proxy && a.token == b.token &&
           a.rooms == b.rooms && a.insecure == b.insecure &&
           a.machine_guid == b.machine_guid && a.claimed_id == b.claimed_id &&
           a.hostname == b.hostname && a.source == b.source;
  }
};

// Parses cloud.conf text; errors are CONFIG_INVALID naming `path` and the
// line, never quoting the token.
absl::StatusOr<CloudConf> ParseCloudConf(absl::string_view text,
                                         absl::string_view path);

// The file text. CONFIG_INVALID (naming `path`) when a value could not be read
// back unchanged: a line break or surrounding whitespace in any value, or a
// room that is empty or has ',' or whitespace.
absl::StatusOr<std::string> SerializeCloudConf(const CloudConf& conf,
                                               absl::string_view path);

}  // namespace cloudlink::config

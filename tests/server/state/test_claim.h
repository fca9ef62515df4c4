#pragma once

// A claim for the state directory's tests: fixed claim ids and machine GUID,
// and a cloud.conf built from them.

#include <string>
#include <utility>
#include <vector>

#include "server/config/cloud_conf.h"

namespace cloudlink::state {

inline constexpr char kOldId[] = "11111111-2222-4333-8444-555555555555";
inline constexpr char kNewId[] = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
inline constexpr char kGuid[] = "0b2a1c1e-1d2e-4f00-8a6b-2d1c9e8f7a6b";

// cloud.conf of a node (machine GUID kGuid, hostname "node1") claimed as
// `claimed_id` with `token` into `rooms`.
inline config::CloudConf MakeConf(const std::string& claimed_id,
                                  const std::string& token,
                                  std::vector<std::string> rooms) {
  config::CloudConf conf;
  conf.url = "https://cloud.example";
  conf.proxy = "env";
  conf.token = token;
  conf.rooms = std::move(rooms);
  conf.insecure = false;
  conf.machine_guid = kGuid;
  conf.claimed_id = claimed_id;
  conf.hostname = "node1";
  return conf;
}

}  // namespace cloudlink::state

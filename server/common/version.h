#pragma once

// The version cloudlink reports to the cloud (env `v=`, login
// `agent_version`) and in `--version` output.

namespace cloudlink {

inline constexpr char kVersion[] = "0.1.0";
inline constexpr char kAgentVersion[] = "cloudlink/0.1.0";

}  // namespace cloudlink

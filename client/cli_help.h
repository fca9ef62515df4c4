#pragma once

// cloudlinkctl's help texts that are not a command's own (CommandHelp in
// descriptor_commands.h is that): the overview and aclk-state's.

#include <string>
#include <vector>

#include "client/descriptor_commands.h"

namespace cloudlink::client {

// "cloudlinkctl --help": usage, one line per command (aclk-state first, then
// `commands` with their summaries, wrapped at 80 columns), the global flags
// and the exit codes.
std::string OverviewHelp(const std::vector<CommandSpec>& commands);

// "cloudlinkctl aclk-state --help".
std::string AclkStateHelp();

}  // namespace cloudlink::client

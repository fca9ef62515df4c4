#pragma once

// cloudlinkctl's bash completion script, made from the same service
// descriptor the CLI makes its commands from (client/descriptor_commands.h),
// so that a new RPC or request field completes without anyone editing the
// script. The package installs it as
// /usr/share/bash-completion/completions/cloudlinkctl.

#include <string>
#include <vector>

#include "client/descriptor_commands.h"

namespace cloudlink::packaging {

// The script for `commands` plus the CLI's own aclk-state command and global
// flags: completes command names, each command's flags, enum values after an
// enum flag, file names after the global flags that take files, and nothing
// after the other flags that take a value. Defines the function
// _cloudlinkctl and registers it with `complete`.
std::string BashCompletionScript(
    const std::vector<client::CommandSpec>& commands);

}  // namespace cloudlink::packaging

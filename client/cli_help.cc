#include "client/cli_help.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/global_flags.h"

namespace cloudlink::client {

std::string OverviewHelp(const std::vector<CommandSpec>& commands) {
  std::string out =
      "Usage: cloudlinkctl [global flags] COMMAND [flags]\n\n"
      "Controls cloudlinkd, the node's link to its cloud, through its Unix "
      "socket\n(or, with --target, its remote API over mutual TLS).\nCommands "
      "are the RPCs of cloudlink.v1.CloudLink; flags are "
      "the fields of\ntheir requests (cloudlinkctl COMMAND --help).\n\n"
      "Commands:\n";
  // "  name<pad> summary", the summary wrapped at 80 columns under itself.
  auto row = [&out](absl::string_view name, absl::string_view summary) {
    std::string line(name);
    line.resize(std::max<size_t>(line.size(), 24), ' ');
    line = absl::StrCat("  ", line, " ");
    const size_t indent = line.size();
    size_t width = indent;
    for (absl::string_view word :
         absl::StrSplit(summary, ' ', absl::SkipEmpty())) {
      if (width > indent && width + 1 + word.size() > 80) {
        absl::StrAppend(&out, line, "\n");
        line = std::string(indent, ' ');
        width = indent;
      }
      absl::StrAppend(&line, width > indent ? " " : "", word);
      width += (width > indent ? 1 : 0) + word.size();
    }
    absl::StrAppend(&out, line, "\n");
  };
  row("aclk-state [json]",
      "The link state in the lines of `netdatacli aclk-state`.");
  for (const CommandSpec& command : commands) {
    row(command.name, CommandSummary(command));
  }
  absl::StrAppend(
      &out,
      "\nGlobal flags (before or after the command):\n"
      "  --socket PATH      cloudlinkd's socket (default: $CLOUDLINK_SOCKET, "
      "else\n                     ",
      kDefaultSocket,
      ")\n"
      "  --json             print responses as JSON: proto field names, every "
      "field\n                     present; streams print one object per line\n"
      "  --timeout SECONDS  deadline of the call (default 30; streaming "
      "commands:\n                     none unless given; 0: none)\n"
      "  --target HOST:PORT call cloudlinkd's remote API (cloudlinkd --listen) "
      "instead\n                     of the socket; needs --tls-cert and "
      "--tls-key\n"
      "  --tls-cert FILE    client certificate (PEM) for --target\n"
      "  --tls-key FILE     its private key (PEM)\n"
      "  --tls-ca FILE      CA certificates trusted for the daemon's "
      "certificate\n                     (default: the system's)\n"
      "  --help, -h         this text; COMMAND --help for a command\n"
      "  --version          print the version\n\n"
      "Secret flags (--token, --api-token) also take --token-file PATH, "
      "--token -\n(the first line of standard input) or $CLOUDLINK_TOKEN / "
      "$CLOUDLINK_API_TOKEN;\ngiven as plain arguments they are visible to "
      "local users (a warning is printed).\n\n"
      "Exit codes (with --json, errors are one JSON object on stderr):\n"
      "  0  success\n"
      "  1  the daemon returned an error, or the call failed (deadline)\n"
      "  2  usage error: unknown command or flag, bad or missing value; "
      "nothing sent\n"
      "  3  cloudlinkd not reachable at the socket or target, or no "
      "permission\n     to connect to the socket\n"
      "  4  reload-claiming-state: the node is not online (or has a "
      "config error)\n"
      "  5  publish: one or more acks carry an error\n");
  return out;
}

std::string AclkStateHelp() {
  return absl::StrCat(
      "Usage: cloudlinkctl aclk-state [json]\n\n"
      "Prints GetState in the lines of the reference tool (`netdatacli "
      "aclk-state`):\nACLK Available, ACLK Implementation, New Cloud Protocol "
      "Support, Claimed,\nClaimed Id, Online, Used Cloud Protocol, then the "
      "rest of the state.\n`aclk-state json` (or --json) prints the State as "
      "JSON, as get-state --json.\n\n"
      "Global flags: --socket PATH, --json, --timeout SECONDS, --target "
      "HOST:PORT,\n--tls-cert FILE, --tls-key FILE, --tls-ca FILE (see "
      "cloudlinkctl --help).\n");
}

}  // namespace cloudlink::client

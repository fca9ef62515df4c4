#include "client/cli.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <istream>
#include <memory>
#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/aclk_state.h"
#include "client/channel_target.h"
#include "client/descriptor_commands.h"
#include "client/embedded_descriptor_set.h"
#include "client/flag_parser.h"
#include "client/generic_call.h"
#include "client/output_format.h"
#include "client/proto_comments.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/api/grpc_status.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using google::protobuf::Message;

constexpr char kAclkStateCommand[] = "aclk-state";
constexpr absl::Duration kDefaultTimeout = absl::Seconds(30);

struct GlobalFlags {
  std::string socket;
  // --target HOST:PORT and its mutual-TLS files (channel_target.h).
  std::string target;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool json = false;
  bool has_timeout = false;
  absl::Duration timeout = kDefaultTimeout;
  bool help = false;
  bool version = false;
};

// The service compiled into this binary. Naming a generated class links
// cloudlink.pb.cc in, whose initializer registers the descriptors with the
// generated pool.
const google::protobuf::ServiceDescriptor* CloudLinkService() {
  (void)cloudlink::v1::State::descriptor();
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "cloudlink.v1.CloudLink");
}

std::unique_ptr<ProtoComments> LoadComments() {
  absl::StatusOr<std::unique_ptr<ProtoComments>> comments =
      ProtoComments::FromDescriptorSet(EmbeddedDescriptorSet());
  if (comments.ok()) return std::move(*comments);
  return std::move(*ProtoComments::FromDescriptorSet(""));  // no comments
}

absl::Status UsageError(const Reason& reason, absl::string_view sentence) {
  return Error(absl::StatusCode::kInvalidArgument, reason, sentence);
}

absl::StatusOr<absl::Duration> ParseTimeout(absl::string_view text) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds) && std::isfinite(seconds) &&
      seconds >= 0) {
    return seconds == 0 ? absl::InfiniteDuration() : absl::Seconds(seconds);
  }
  absl::Duration duration;
  if (absl::ParseDuration(text, &duration) &&
      duration >= absl::ZeroDuration()) {
    return duration == absl::ZeroDuration() ? absl::InfiniteDuration()
                                            : duration;
  }
  return UsageError(reason::kBadFlagValue,
                    absl::StrCat("--timeout: \"", text,
                                 "\" is not a number of seconds (0: none)"));
}

// Applies args[*index] when it is a global flag and advances *index; returns
// false (index unchanged) when it is not one.
absl::StatusOr<bool> ApplyGlobalFlag(const std::vector<std::string>& args,
                                     size_t* index, GlobalFlags* flags) {
  const std::string& word = args[*index];
  if (word == "-h") {
    flags->help = true;
    ++*index;
    return true;
  }
  absl::string_view body = word;
  if (!absl::ConsumePrefix(&body, "--")) return false;
  const size_t equals = body.find('=');
  const bool has_inline = equals != absl::string_view::npos;
  const absl::string_view name = has_inline ? body.substr(0, equals) : body;
  const absl::string_view inline_value =
      has_inline ? body.substr(equals + 1) : absl::string_view();

  auto take_value = [&](std::string* value) -> absl::Status {
    if (has_inline) {
      *value = std::string(inline_value);
      *index += 1;
      return absl::OkStatus();
    }
    if (*index + 1 >= args.size()) {
      return UsageError(reason::kMissingFlagValue,
                        absl::StrCat("--", name, " needs a value"));
    }
    *value = args[*index + 1];
    *index += 2;
    return absl::OkStatus();
  };
  auto take_bool = [&](bool* value) -> absl::Status {
    *index += 1;
    if (!has_inline) {
      *value = true;
      return absl::OkStatus();
    }
    if (!ParseBoolValue(inline_value, value)) {
      return UsageError(reason::kBadFlagValue,
                        absl::StrCat("--", name, ": \"", inline_value,
                                     "\" is not true or false"));
    }
    return absl::OkStatus();
  };

  if (name == "socket") {
    std::string value;
    absl::Status status = take_value(&value);
    if (!status.ok()) return status;
    absl::string_view path = value;
    if (!absl::ConsumePrefix(&path, "unix://")) {
      absl::ConsumePrefix(&path, "unix:");
    }
    if (path.empty()) {
      return UsageError(reason::kBadFlagValue, "--socket needs a path");
    }
    flags->socket = std::string(path);
    return true;
  }
  if (name == "timeout") {
    std::string value;
    absl::Status status = take_value(&value);
    if (!status.ok()) return status;
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(value);
    if (!timeout.ok()) return timeout.status();
    flags->timeout = *timeout;
    flags->has_timeout = true;
    return true;
  }
  for (const auto& [flag, value] :
       {std::pair<absl::string_view, std::string*>{"target", &flags->target},
        {"tls-cert", &flags->tls_cert},
        {"tls-key", &flags->tls_key},
        {"tls-ca", &flags->tls_ca}}) {
    if (name != flag) continue;
    absl::Status status = take_value(value);
    if (!status.ok()) return status;
    if (value->empty()) {
      return UsageError(reason::kBadFlagValue,
                        absl::StrCat("--", name, " needs a value"));
    }
    return true;
  }
  absl::Status status;
  if (name == "json") {
    status = take_bool(&flags->json);
  } else if (name == "help") {
    status = take_bool(&flags->help);
  } else if (name == "version") {
    status = take_bool(&flags->version);
  } else {
    return false;
  }
  if (!status.ok()) return status;
  return true;
}

std::string SocketOf(absl::string_view env_socket) {
  absl::string_view path = env_socket;
  if (!absl::ConsumePrefix(&path, "unix://"))
    absl::ConsumePrefix(&path, "unix:");
  return path.empty() ? kDefaultSocket : std::string(path);
}

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
      "Exit codes: 0 success, 1 the daemon returned an error, 2 usage error,\n"
      "3 cloudlinkd not reachable at the socket or target.\n");
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

// Top-level secret string fields of `message` (see IsSecretField).
void CollectSecrets(const Message& message, std::vector<std::string>* out) {
  const google::protobuf::Descriptor* type = message.GetDescriptor();
  const google::protobuf::Reflection* r = message.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    if (field->cpp_type() !=
            google::protobuf::FieldDescriptor::CPPTYPE_STRING ||
        field->is_repeated() || !IsSecretField(field)) {
      continue;
    }
    std::string value = r->GetString(message, field);
    if (!value.empty()) out->push_back(std::move(value));
  }
}

std::string Scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (!secret.empty()) absl::StrReplaceAll({{secret, "****"}}, &text);
  }
  return text;
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string UnreachableMessage(const ChannelTarget& target,
                               const grpc::Status& status) {
  if (target.remote()) {
    return ErrorText(
        reason::kDaemonUnreachable,
        absl::StrCat(
            "cannot reach cloudlinkd at ", target.address,
            " over mutual TLS (gRPC UNAVAILABLE: ", status.error_message(),
            "). Is it serving there (cloudlinkd --listen)? Does its "
            "--tls-client-ca trust your --tls-cert, and your "
            "--tls-ca its certificate?"));
  }
  const std::string& socket = target.socket;
  struct stat info;
  std::string why;
  if (stat(socket.c_str(), &info) != 0) {
    why = errno == ENOENT ? "the socket does not exist"
                          : absl::StrCat("the socket cannot be read (",
                                         strerror(errno), ")");
  } else if (!S_ISSOCK(info.st_mode)) {
    why = "the path is not a socket";
  } else {
    why = "nothing accepted the connection";
  }
  return ErrorText(
      reason::kDaemonUnreachable,
      absl::StrCat("cannot reach cloudlinkd at ", socket, ": ", why,
                   " (gRPC UNAVAILABLE: ", status.error_message(),
                   "). Is cloudlinkd running? Set --socket or "
                   "CLOUDLINK_SOCKET to its socket."));
}

int ReportUsage(const absl::Status& status, const CliIo& io) {
  *io.err << "cloudlinkctl: " << status.message()
          << "\nRun cloudlinkctl --help for usage.\n";
  return kExitUsage;
}

// Runs `method` with `request` (or, for client-streaming methods without
// flags, requests read from standard input) and prints the responses with
// `print`. Returns the exit code.
int Execute(const ChannelTarget& target, const GlobalFlags& flags,
            const google::protobuf::MethodDescriptor* method,
            std::unique_ptr<Message> request, bool any_flag,
            std::vector<std::string> secrets,
            const std::function<void(const Message&, int64_t)>& print,
            const CliIo& io) {
  absl::Duration timeout = flags.timeout;
  if (!flags.has_timeout && method->server_streaming()) {
    timeout = absl::InfiniteDuration();
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(target);
  if (!channel.ok()) return ReportUsage(channel.status(), io);

  CollectSecrets(*request, &secrets);
  const bool from_stdin = method->client_streaming() && !any_flag;
  int line_number = 0;
  std::vector<std::string> stdin_secrets;  // read only after the call
  RequestSource source = [&]() -> absl::StatusOr<std::unique_ptr<Message>> {
    // Flags: the one request, then nullptr. Standard input: `request` is
    // the (empty) prototype of each line's message.
    if (!from_stdin) return std::move(request);
    std::string line;
    while (std::getline(*io.in, line)) {
      ++line_number;
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      std::unique_ptr<Message> next(request->New());
      const auto status =
          google::protobuf::util::JsonStringToMessage(line, next.get());
      if (!status.ok()) {
        return UsageError(
            reason::kBadRequestLine,
            absl::StrCat("standard input line ", line_number, " is not a ",
                         method->input_type()->full_name(), " in JSON"));
      }
      CollectSecrets(*next, &stdin_secrets);
      return next;
    }
    return std::unique_ptr<Message>();
  };
  int64_t printed = 0;
  CallResult result = CallMethod(
      *channel, method, source,
      [&](const Message& response) { print(response, printed++); }, timeout);
  secrets.insert(secrets.end(), stdin_secrets.begin(), stdin_secrets.end());

  if (!result.local_error.ok()) {
    if (HasReason(result.local_error, reason::kBadRequestLine)) {
      return ReportUsage(result.local_error, io);
    }
    *io.err << "cloudlinkctl: "
            << Scrub(std::string(result.local_error.message()), secrets)
            << "\n";
    return kExitRpcError;
  }
  const grpc::Status& status = result.status;
  if (status.ok()) return kExitOk;
  const std::string message = status.error_message();
  // The daemon's errors carry their reason as an ErrorInfo detail; gRPC's own
  // (no daemon at the socket, deadline passed) carry none.
  const bool has_reason = !ReasonOf(api::FromGrpcStatus(status)).empty();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      result.responses == 0 && !has_reason) {
    *io.err << "cloudlinkctl: "
            << Scrub(UnreachableMessage(target, status), secrets) << "\n";
    return kExitUnreachable;
  }
  const std::string code = CodeName(status.error_code());
  std::string text = has_reason ? message : absl::StrCat(code, ": ", message);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      !has_reason) {
    absl::StrAppend(&text, " (no answer within ", absl::FormatDuration(timeout),
                    "; see --timeout)");
  }
  *io.err << "cloudlinkctl: " << Scrub(text, secrets) << " (gRPC " << code
          << ")\n";
  return kExitRpcError;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, absl::string_view env_socket,
           const CliIo& io) {
  const google::protobuf::ServiceDescriptor* service = CloudLinkService();
  const std::unique_ptr<ProtoComments> comments = LoadComments();
  const std::vector<CommandSpec> commands =
      CommandsFromService(service, *comments);

  GlobalFlags flags;
  flags.socket = SocketOf(env_socket);
  google::protobuf::DynamicMessageFactory factory;
  factory.SetDelegateToGeneratedFactory(true);

  bool have_command = false;
  bool aclk_state = false;
  bool aclk_json = false;
  const CommandSpec* command = nullptr;
  std::unique_ptr<Message> request;
  std::unique_ptr<RequestFlagParser> parser;

  for (size_t i = 0; i < args.size();) {
    const std::string& word = args[i];
    absl::StatusOr<bool> global = ApplyGlobalFlag(args, &i, &flags);
    if (!global.ok()) return ReportUsage(global.status(), io);
    if (*global) continue;
    if (absl::StartsWith(word, "--")) {
      if (parser != nullptr) {
        const absl::Status status = parser->Apply(args, &i);
        if (!status.ok()) return ReportUsage(status, io);
        continue;
      }
      absl::string_view name = absl::string_view(word).substr(2);
      name = name.substr(0, name.find('='));
      return ReportUsage(
          UsageError(reason::kUnknownFlag,
                     absl::StrCat("--", name, " is not a flag",
                                  aclk_state ? " of aclk-state" : "")),
          io);
    }
    if (!have_command) {
      ++i;
      if (word == "help") {
        flags.help = true;
        continue;
      }
      have_command = true;
      if (word == kAclkStateCommand) {
        aclk_state = true;
        continue;
      }
      command = FindCommand(commands, word);
      if (command == nullptr) {
        return ReportUsage(
            UsageError(reason::kUnknownCommand,
                       absl::StrCat("\"", word, "\" is not a command")),
            io);
      }
      request.reset(factory.GetPrototype(command->method->input_type())->New());
      parser = std::make_unique<RequestFlagParser>(command, request.get());
      continue;
    }
    if (aclk_state && word == "json" && !aclk_json) {
      aclk_json = true;
      ++i;
      continue;
    }
    if (parser != nullptr) {
      return ReportUsage(parser->Apply(args, &i), io);  // UNEXPECTED_ARGUMENT
    }
    return ReportUsage(
        UsageError(
            reason::kUnexpectedArgument,
            absl::StrCat("aclk-state takes only \"json\"; \"",
                         word.size() <= 24 ? word : "...", "\" is not it")),
        io);
  }

  if (flags.version) {
    *io.out << "cloudlinkctl " << kCloudlinkctlVersion << " (API "
            << service->full_name() << ")\n";
    return kExitOk;
  }
  if (flags.help) {
    if (command != nullptr) {
      *io.out << CommandHelp(*command);
    } else if (aclk_state) {
      *io.out << AclkStateHelp();
    } else {
      *io.out << OverviewHelp(commands);
    }
    return kExitOk;
  }
  if (!have_command) {
    *io.err << OverviewHelp(commands);
    return kExitUsage;
  }

  ChannelTarget target;
  target.socket = flags.socket;
  target.address = flags.target;
  target.tls_cert = flags.tls_cert;
  target.tls_key = flags.tls_key;
  target.tls_ca = flags.tls_ca;
  if (absl::Status checked = CheckChannelTarget(target); !checked.ok()) {
    return ReportUsage(checked, io);
  }
  const bool json = flags.json || aclk_json;
  if (aclk_state) {
    const google::protobuf::MethodDescriptor* get_state =
        service->FindMethodByName("GetState");
    return Execute(
        target, flags, get_state,
        std::unique_ptr<Message>(
            factory.GetPrototype(get_state->input_type())->New()),
        false, {},
        [&](const Message& response, int64_t) {
          if (json) {
            absl::StatusOr<std::string> text = ToStableJson(response, true);
            *io.out << (text.ok() ? *text : "") << std::flush;
            return;
          }
          cloudlink::v1::State state;
          state.ParseFromString(response.SerializeAsString());
          *io.out << AclkStateText(state) << std::flush;
        },
        io);
  }

  const bool stream = command->method->server_streaming();
  return Execute(
      target, flags, command->method, std::move(request), parser->any_flag(),
      parser->secret_values(),
      [&](const Message& response, int64_t index) {
        if (json) {
          absl::StatusOr<std::string> text = ToStableJson(response, !stream);
          *io.out << (text.ok() ? *text : "") << std::flush;
          return;
        }
        *io.out << (index > 0 ? "\n" : "") << ToText(response) << std::flush;
      },
      io);
}

}  // namespace cloudlink::client

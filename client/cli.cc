#include "client/cli.h"

#include <sys/stat.h>

#include <cerrno>
#include <istream>
#include <memory>
#include <ostream>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/aclk_state.h"
#include "client/call_outcome.h"
#include "client/channel_target.h"
#include "client/cli_help.h"
#include "client/descriptor_commands.h"
#include "client/embedded_descriptor_set.h"
#include "client/error_report.h"
#include "client/flag_parser.h"
#include "client/generic_call.h"
#include "client/global_flags.h"
#include "client/output_format.h"
#include "client/proto_comments.h"
#include "client/secret_flags.h"
#include "client/secret_scrub.h"
#include "client/socket_access.h"
#include "client/stdin_requests.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/api/grpc_status.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

using google::protobuf::Message;

constexpr char kAclkStateCommand[] = "aclk-state";

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

// Prints errors and warnings: "cloudlinkctl: REASON: sentence" lines, or
// with --json one JSON object per line (error_report.h); secrets scrubbed.
struct Reporter {
  const CliIo& io;
  bool json = false;
  std::vector<std::string> secrets;

  // `error` in JSON, or `text` (already "REASON: sentence ...") as a line.
  int Fail(CliError error, const std::string& text) {
    if (json) {
      error.message = Scrub(error.message, secrets);
      *io.err << ErrorJson(error);
    } else {
      *io.err << "cloudlinkctl: " << Scrub(text, secrets) << "\n";
    }
    return error.exit_code;
  }

  // A status made by Error(): its message is the text.
  int FailWith(const absl::Status& status, int exit_code) {
    return Fail(ErrorOf(status, exit_code), std::string(status.message()));
  }

  int Usage(const absl::Status& status) {
    return Fail(
        ErrorOf(status, kExitUsage),
        absl::StrCat(status.message(), "\nRun cloudlinkctl --help for usage."));
  }

  void Warn(const Reason& reason, const std::string& sentence) {
    if (json) {
      *io.err << WarningJson(reason.name, ErrorText(reason, sentence));
    } else {
      *io.err << "cloudlinkctl: warning: " << ErrorText(reason, sentence)
              << "\n";
    }
  }
};

// Whether --json is among `args` (before parsing, so that usage errors
// found on the way are reported in the form asked for).
bool AsksForJson(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view word = args[i];
    if (word == "--json") return true;
    bool value = false;
    if (absl::ConsumePrefix(&word, "--json=") && ParseBoolValue(word, &value)) {
      return value;
    }
    if (word == kAclkStateCommand && i + 1 < args.size() &&
        args[i + 1] == "json") {
      return true;
    }
  }
  return false;
}

// Runs `method` with `request` (or, for client-streaming methods without
// flags, requests read from standard input) and prints the responses with
// `print`. Returns the exit code.
int Execute(const ChannelTarget& target, const GlobalFlags& flags,
            const google::protobuf::MethodDescriptor* method,
            std::unique_ptr<Message> request, bool any_flag,
            const std::function<void(const Message&, int64_t)>& print,
            Reporter& report) {
  const CliIo& io = report.io;
  absl::Duration timeout = flags.timeout;
  if (!flags.has_timeout && method->server_streaming()) {
    timeout = absl::InfiniteDuration();
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = MakeChannel(target);
  if (!channel.ok()) return report.Usage(channel.status());

  CollectSecrets(*request, &report.secrets);
  const bool from_stdin = method->client_streaming() && !any_flag;
  // Batch acks of Publish are printed one per message (below).
  const bool publish = method->input_type()->full_name() ==
                       cloudlink::v1::PublishRequest::descriptor()->full_name();
  std::unique_ptr<StdinRequests> lines;
  RequestSource source;
  if (from_stdin) {
    // `request` is the (empty) prototype of each line's message.
    lines = std::make_unique<StdinRequests>(io.in, std::move(request));
    source = [&lines] { return lines->Next(); };
  } else {
    // Flags: the one request, then nullptr.
    source = [&request]() -> absl::StatusOr<std::unique_ptr<Message>> {
      return std::move(request);
    };
  }
  int64_t printed = 0;
  CallOutcome outcome(method);
  auto observe_and_print = [&](const Message& response) {
    outcome.Observe(response);
    print(response, printed++);
  };
  // Batch acks print (and count) as one ack per message, as single acks do.
  auto print_each = [&](const Message& response) {
    cloudlink::v1::PublishAck ack;
    if (publish) ack.ParseFromString(response.SerializeAsString());
    if (ack.ok_ids_size() == 0 && ack.failed_size() == 0) {
      observe_and_print(response);
      return;
    }
    auto print_one = [&](const cloudlink::v1::PublishAck& one) {
      std::unique_ptr<Message> out(response.New());
      out->ParseFromString(one.SerializeAsString());
      observe_and_print(*out);
    };
    for (uint64_t id : ack.ok_ids()) {
      cloudlink::v1::PublishAck one;
      one.set_id(id);
      print_one(one);
    }
    for (const cloudlink::v1::PublishFailure& failure : ack.failed()) {
      cloudlink::v1::PublishAck one;
      one.set_id(failure.id());
      one.set_code(failure.code());
      one.set_message(failure.message());
      print_one(one);
    }
  };
  CallResult result = CallMethod(*channel, method, source, print_each, timeout);
  if (lines != nullptr) {  // read only after the call
    report.secrets.insert(report.secrets.end(), lines->secrets().begin(),
                          lines->secrets().end());
  }

  if (!result.local_error.ok()) {
    if (HasReason(result.local_error, reason::kBadRequestLine)) {
      return report.Usage(result.local_error);
    }
    return report.FailWith(result.local_error, kExitRpcError);
  }
  const grpc::Status& status = result.status;
  if (status.ok()) {
    const absl::Status verdict = outcome.Verdict();
    if (verdict.ok()) return kExitOk;
    return report.FailWith(verdict,
                           HasReason(verdict, reason::kPublishAcksFailed)
                               ? kExitPublishFailed
                               : kExitNotReached);
  }
  const std::string message = status.error_message();
  // The daemon's errors carry their reason as an ErrorInfo detail; gRPC's own
  // (no daemon at the socket, deadline passed) carry none.
  const std::string reason_name = ReasonOf(api::FromGrpcStatus(status));
  const bool has_reason = !reason_name.empty();
  const std::string code = CodeName(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      result.responses == 0 && !has_reason) {
    if (!target.remote()) {
      if (absl::optional<std::string> denied =
              SocketPermissionProblem(target.socket)) {
        return report.Fail({"PERMISSION_DENIED",
                            std::string(reason::kSocketPermissionDenied.name),
                            *denied, kExitUnreachable},
                           ErrorText(reason::kSocketPermissionDenied, *denied));
      }
    }
    const std::string text = UnreachableMessage(target, status);
    return report.Fail({code, std::string(reason::kDaemonUnreachable.name),
                        text, kExitUnreachable},
                       text);
  }
  std::string text = has_reason ? message : absl::StrCat(code, ": ", message);
  std::string sentence = message;
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      !has_reason) {
    const std::string hint =
        absl::StrCat(" (no answer within ", absl::FormatDuration(timeout),
                     "; see --timeout)");
    absl::StrAppend(&text, hint);
    absl::StrAppend(&sentence, hint);
  }
  return report.Fail({code, reason_name, sentence, kExitRpcError},
                     absl::StrCat(text, " (gRPC ", code, ")"));
}

// Fills the secret flags of the command from their files, standard input or
// environment variables (secret_flags.h), warns about those given as plain
// arguments, and checks that every required flag is there.
absl::Status CompleteRequest(const CommandSpec& command,
                             RequestFlagParser* parser, Reporter& report) {
  int from_stdin = 0;
  std::set<const FlagSpec*> warned;
  for (const SecretInput& input : parser->secret_inputs()) {
    if (input.form == SecretForm::kArgument) {
      if (warned.insert(input.flag).second) {
        report.Warn(reason::kSecretOnCommandLine,
                    SecretArgumentWarning(*input.flag));
      }
      continue;
    }
    if (input.form == SecretForm::kStdin && ++from_stdin > 1) {
      return UsageError(reason::kConflictingFlags,
                        "only one secret flag may read standard input (-)");
    }
    absl::StatusOr<std::string> value = ReadSecret(input, *report.io.in);
    if (!value.ok()) return value.status();
    if (absl::Status set = parser->SetSecret(*input.flag, *value); !set.ok()) {
      return set;
    }
  }
  const bool from_stdin_requests =
      command.method->client_streaming() && !parser->any_flag();
  for (const FlagSpec& flag : command.flags) {
    if (!flag.secret || parser->IsSet(flag.field) || !report.io.getenv) {
      continue;
    }
    const absl::optional<std::string> value =
        report.io.getenv(SecretEnvVar(flag));
    if (!value.has_value() || absl::StripAsciiWhitespace(*value).empty()) {
      continue;
    }
    const absl::Status set = parser->SetSecret(
        flag, std::string(absl::StripAsciiWhitespace(*value)));
    if (!set.ok()) return set;
  }
  if (from_stdin_requests) return absl::OkStatus();
  for (const FlagSpec& flag : command.flags) {
    if (!flag.required || parser->IsSet(flag.field)) continue;
    return UsageError(
        reason::kMissingFlag,
        absl::StrCat(
            command.name, " needs --", flag.name,
            flag.secret
                ? absl::StrCat(" (or --", flag.name, "-file PATH, --",
                               flag.name, " -, or $", SecretEnvVar(flag), ")")
                : ""));
  }
  return absl::OkStatus();
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

  Reporter report{io, AsksForJson(args), {}};
  bool have_command = false;
  bool aclk_state = false;
  bool aclk_json = false;
  const CommandSpec* command = nullptr;
  std::unique_ptr<Message> request;
  std::unique_ptr<RequestFlagParser> parser;

  for (size_t i = 0; i < args.size();) {
    const std::string& word = args[i];
    absl::StatusOr<bool> global = ApplyGlobalFlag(args, &i, &flags);
    if (!global.ok()) return report.Usage(global.status());
    if (*global) continue;
    if (absl::StartsWith(word, "--")) {
      if (parser != nullptr) {
        const absl::Status status = parser->Apply(args, &i);
        if (!status.ok()) return report.Usage(status);
        continue;
      }
      absl::string_view name = absl::string_view(word).substr(2);
      name = name.substr(0, name.find('='));
      return report.Usage(
          UsageError(reason::kUnknownFlag,
                     absl::StrCat("--", name, " is not a flag",
                                  aclk_state ? " of aclk-state" : "")));
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
        return report.Usage(
            UsageError(reason::kUnknownCommand,
                       absl::StrCat("\"", word, "\" is not a command")));
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
      return report.Usage(parser->Apply(args, &i));  // UNEXPECTED_ARGUMENT
    }
    return report.Usage(UsageError(
        reason::kUnexpectedArgument,
        absl::StrCat("aclk-state takes only \"json\"; \"",
                     word.size() <= 24 ? word : "...", "\" is not it")));
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
    return report.Usage(checked);
  }
  const bool json = flags.json || aclk_json;
  report.json = json;
  if (aclk_state) {
    const google::protobuf::MethodDescriptor* get_state =
        service->FindMethodByName("GetState");
    return Execute(
        target, flags, get_state,
        std::unique_ptr<Message>(
            factory.GetPrototype(get_state->input_type())->New()),
        false,
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
        report);
  }

  if (absl::Status complete = CompleteRequest(*command, parser.get(), report);
      !complete.ok()) {
    report.secrets = parser->secret_values();
    return report.Usage(complete);
  }
  report.secrets = parser->secret_values();
  const bool stream = command->method->server_streaming();
  return Execute(
      target, flags, command->method, std::move(request), parser->any_flag(),
      [&](const Message& response, int64_t index) {
        if (json) {
          absl::StatusOr<std::string> text = ToStableJson(response, !stream);
          *io.out << (text.ok() ? *text : "") << std::flush;
          return;
        }
        *io.out << (index > 0 ? "\n" : "") << ToText(response) << std::flush;
      },
      report);
}

}  // namespace cloudlink::client

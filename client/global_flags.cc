#include "client/global_flags.h"

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/flag_parser.h"
#include "server/common/error.h"

namespace cloudlink::client {
namespace {

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

}  // namespace

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

}  // namespace cloudlink::client

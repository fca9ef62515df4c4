#include "tests/integration/link_test_base.h"

#include <functional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "server/common/uuid.h"

namespace cloudlink::integration {

using nlohmann::json;

namespace {

// testing::WaitFor at a pace suited to HTTPS calls to the dev cloud (each
// poll is a TLS handshake; every 10 ms would load the 2-core machine).
bool PollCloud(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace

int64_t ReconnectCount(const json& state) {
  int64_t count = -1;
  const json value = state.value("reconnect_count", json());
  if (value.is_string()) {
    if (!absl::SimpleAtoi(value.get<std::string>(), &count)) return -1;
  } else if (value.is_number_integer()) {
    count = value.get<int64_t>();
  }
  return count;
}

std::vector<json> AgentConnections(const json& messages) {
  std::vector<json> out;
  if (!messages.is_array()) return out;
  for (const json& message : messages) {
    if (message.value("type", "") == "UpdateAgentConnection" &&
        message.contains("fields")) {
      out.push_back(message["fields"]);
    }
  }
  return out;
}

bool HasAgentConnection(const std::vector<json>& connections, bool reachable,
                        const std::string& update_source) {
  for (const json& fields : connections) {
    if (fields.value("reachable", !reachable) == reachable &&
        fields.value("update_source", "") == update_source) {
      return true;
    }
  }
  return false;
}

void LinkTestBase::SetUp() {
  DevCloudOptions options;
  options.backoff = cloud_backoff_;
  options.broker_max_keepalive_seconds = broker_max_keepalive_seconds_;
  auto cloud = DevCloud::Start(tmp_.Join("cloud"), options);
  ASSERT_TRUE(cloud.ok()) << cloud.status();
  cloud_ = *std::move(cloud);
}

void LinkTestBase::TearDown() {
  if (cloud_ == nullptr) return;
  ASSERT_TRUE(cloud_->ReloadEnv().ok());
  std::vector<std::string> secrets = cloud_->Secrets();
  secrets.insert(secrets.end(), proxy_passwords_.begin(),
                 proxy_passwords_.end());
  for (const auto& daemon : daemons_) {
    const std::string outputs[] = {daemon->AllStderr(), daemon->Stdout(),
                                   daemon->transcript()};
    const char* names[] = {"daemon stderr", "daemon stdout",
                           "cloudlinkctl output"};
    for (int i = 0; i < 3; ++i) {
      for (const std::string& secret : secrets) {
        ASSERT_FALSE(secret.empty());
        EXPECT_THAT(outputs[i], ::testing::Not(::testing::HasSubstr(secret)))
            << "a secret appears in the " << names[i];
      }
    }
  }
}

CloudlinkdOptions LinkTestBase::TrustingOptions() const {
  CloudlinkdOptions options;
  options.cloud_ca = cloud_->ca_path();
  return options;
}

CloudlinkdProcess* LinkTestBase::StartDaemon(CloudlinkdOptions options) {
  auto daemon = CloudlinkdProcess::Start(std::move(options));
  EXPECT_TRUE(daemon.ok()) << daemon.status();
  if (!daemon.ok()) return nullptr;
  daemons_.push_back(*std::move(daemon));
  return daemons_.back().get();
}

CloudlinkdProcess* LinkTestBase::StartDaemon() {
  return StartDaemon(TrustingOptions());
}

ProxyProcess* LinkTestBase::StartProxy(ProxyKind kind, const std::string& user,
                                       const std::string& password) {
  ProxyOptions options;
  options.kind = kind;
  options.user = user;
  options.password = password;
  if (!password.empty()) proxy_passwords_.push_back(password);
  auto proxy = ProxyProcess::Start(options);
  EXPECT_TRUE(proxy.ok()) << proxy.status();
  if (!proxy.ok()) return nullptr;
  proxies_.push_back(*std::move(proxy));
  return proxies_.back().get();
}

std::string LinkTestBase::NewProxyPassword() {
  std::string password = absl::StrCat("pw-", NewUuidV4().substr(0, 13));
  proxy_passwords_.push_back(password);
  return password;
}

std::string LinkTestBase::Claim(CloudlinkdProcess* daemon,
                                const std::string& proxy,
                                const std::string& url,
                                std::vector<std::string> extra) {
  std::vector<std::string> args = {"--json",  "claim",
                                   "--token", cloud_->Env("CLAIM_TOKEN"),
                                   "--rooms", cloud_->Env("ROOMS"),
                                   "--url",   url.empty() ? cloud_->url() : url,
                                   "--proxy", proxy};
  args.insert(args.end(), extra.begin(), extra.end());
  const testing::RunResult result = daemon->Ctl(args);
  EXPECT_EQ(result.exit_code, 0)
      << result.out << result.err << Diagnostics(daemon);
  const json answer = json::parse(result.out, nullptr, false);
  const std::string claimed_id =
      answer.is_object() ? answer.value("claimed_id", "") : "";
  EXPECT_TRUE(IsUuid(claimed_id)) << result.out;
  return claimed_id;
}

json LinkTestBase::WaitForStatus(CloudlinkdProcess* daemon,
                                 const std::string& status,
                                 absl::Duration timeout) {
  absl::StatusOr<json> state = daemon->WaitForState(
      [&](const json& s) { return s.value("status", "") == status; }, timeout);
  EXPECT_TRUE(state.ok()) << state.status();
  if (!state.ok()) return json::object();
  EXPECT_EQ(state->value("status", ""), status)
      << "after " << absl::FormatDuration(timeout) << ": " << state->dump(2)
      << Diagnostics(daemon);
  return *state;
}

std::vector<json> LinkTestBase::AgentConnectionsOf(
    const std::string& claim_id) {
  absl::StatusOr<json> messages = cloud_->NodeMessages(claim_id);
  EXPECT_TRUE(messages.ok()) << messages.status();
  if (!messages.ok()) return {};
  return AgentConnections(*messages);
}

bool LinkTestBase::WaitForAgentConnection(const std::string& claim_id,
                                          bool reachable,
                                          const std::string& update_source,
                                          absl::Duration timeout) {
  return PollCloud(
      [&] {
        absl::StatusOr<json> messages = cloud_->NodeMessages(claim_id);
        return messages.ok() && HasAgentConnection(AgentConnections(*messages),
                                                   reachable, update_source);
      },
      timeout);
}

bool LinkTestBase::WaitForListedState(const std::string& claim_id,
                                      const std::string& state,
                                      const std::string& space_id,
                                      absl::Duration timeout) {
  const std::string space =
      space_id.empty() ? cloud_->Env("SPACE_ID") : space_id;
  return PollCloud(
      [&] {
        absl::StatusOr<std::string> listed = cloud_->NodeState(space, claim_id);
        return listed.ok() && *listed == state;
      },
      timeout);
}

int LinkTestBase::Requests(const std::string& path_prefix) {
  absl::StatusOr<int> count = cloud_->RequestCount(path_prefix);
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? *count : -1;
}

std::string LinkTestBase::Diagnostics(CloudlinkdProcess* daemon) const {
  return absl::StrCat("\n--- cloudlinkd log ---\n", daemon->AllStderr());
}

}  // namespace cloudlink::integration

// WebHandler without sockets: routing, security headers, Host and Origin
// checks, the claim exchange (key check, rotation, parameter validation,
// claim or reclaim, the wait for online) and the JSON it answers.

#include "server/web/web_handler.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/common/error.h"
#include "server/common/mutex.h"
#include "server/state/file_system.h"
#include "server/web/claim_key.h"
#include "tests/testing/test_clock.h"
#include "tests/testing/test_env.h"

namespace cloudlink::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "SECRET-token_0123456789";

// A node whose state the test sets; Claim/Reclaim record their arguments and
// answer `claim_result`; on success the node turns `after_claim`.
class FakeNode : public WebNode {
 public:
  explicit FakeNode(testing::FakeClock* clock) : clock_(clock) {}

  std::pair<node::NodeState, uint64_t> GetState() const override {
    MutexLock lock(&mu_);
    return {state_, version_};
  }
  std::pair<node::NodeState, uint64_t> WaitForStateChange(
      uint64_t seen_version, absl::Duration timeout) const override {
    MutexLock lock(&mu_);
    if (version_ == seen_version) clock_->Advance(timeout);
    return {state_, version_};
  }
  absl::Status Claim(const node::ClaimArgs& args) override {
    return Record("claim", args);
  }
  absl::Status Reclaim(const node::ClaimArgs& args) override {
    return Record("reclaim", args);
  }

  void Set(node::NodeState state) {
    MutexLock lock(&mu_);
    state_ = std::move(state);
    ++version_;
  }

  absl::Status claim_result;
  absl::optional<node::NodeState> after_claim;
  std::vector<std::string> calls;
  std::vector<node::ClaimArgs> args;

 private:
  absl::Status Record(const std::string& call, const node::ClaimArgs& a) {
    calls.push_back(call);
    args.push_back(a);
    if (claim_result.ok() && after_claim.has_value()) Set(*after_claim);
    return claim_result;
  }

  testing::FakeClock* const clock_;
  mutable Mutex mu_;
  node::NodeState state_;
  uint64_t version_ = 1;
};

node::NodeState Available() {
  node::NodeState s;
  s.machine_guid = "11111111-2222-3333-4444-555555555555";
  s.status = node::kStatusAvailable;
  s.since = absl::FromUnixSeconds(1700000000 - 30);
  return s;
}

node::NodeState Claimed(const std::string& status) {
  node::NodeState s = Available();
  s.claimed = true;
  s.claimed_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  s.url = "https://cloud.example";
  s.status = status;
  if (status == node::kStatusOnline) {
    s.online = true;
    s.last_connect = absl::FromUnixSeconds(1700000000 - 10);
  } else {
    s.reason = "CONNECT_FAILED: refused";
    s.reason_name = "CONNECT_FAILED";
  }
  return s;
}

class WebHandlerTest : public ::testing::Test {
 protected:
  WebHandlerTest() : node_(&clock_) {
    auto key = ClaimKey::Create(state::DefaultFileSystem(),
                                dir_.Join(kClaimKeyFileName), getgid());
    EXPECT_TRUE(key.ok()) << key.status();
    key_ = *std::move(key);
    WebHandlerOptions options;
    options.clock = &clock_;
    handler_ = std::make_unique<WebHandler>(options, &node_, key_.get());
    node_.Set(Available());
  }

  std::string Key() const {
    std::string k = testing::ReadFileOrEmpty(key_->path());
    if (!k.empty() && k.back() == '\n') k.pop_back();
    return k;
  }

  WebRequest Get(const std::string& path,
                 std::map<std::string, std::string> params = {}) const {
    WebRequest r;
    r.method = "GET";
    r.path = path;
    r.params = std::move(params);
    r.host = "127.0.0.1:19990";
    return r;
  }

  std::map<std::string, std::string> GoodClaim() const {
    return {{"key", Key()},
            {"token", kToken},
            {"rooms", "room-1,room-2"},
            {"url", "https://cloud.example"}};
  }

  static nlohmann::json Body(const WebResponse& r) {
    return nlohmann::json::parse(r.body);
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  FakeNode node_;
  std::unique_ptr<ClaimKey> key_;
  std::unique_ptr<WebHandler> handler_;
};

TEST_F(WebHandlerTest, InfoHasCloudAndAgent) {
  node_.Set(Claimed(node::kStatusOnline));
  WebResponse r = handler_->Handle(Get("/api/v3/info"));
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("application/json"));
  nlohmann::json body = Body(r);
  EXPECT_EQ(body["cloud"]["status"], "online");
  EXPECT_EQ(body["cloud"]["claim_id"], "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(body["cloud"]["reason"], "");
  EXPECT_EQ(body["cloud"]["age"], 30);
  EXPECT_EQ(body["cloud"]["id"], 1);
  EXPECT_EQ(body["agent"]["machine_guid"],
            "11111111-2222-3333-4444-555555555555");
  EXPECT_TRUE(body["agent"]["publish"].contains("published"));
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
}

TEST_F(WebHandlerTest, EveryAnswerHasSecurityHeaders) {
  for (const std::string path : {"/", "/app.js", "/app.css", "/api/v3/info",
                                 "/api/v3/claim", "/missing"}) {
    WebResponse r = handler_->Handle(Get(path));
    EXPECT_THAT(r.Header("Content-Security-Policy"),
                HasSubstr("script-src 'self'"))
        << path;
    EXPECT_THAT(r.Header("Content-Security-Policy"),
                Not(HasSubstr("unsafe-inline")))
        << path;
    EXPECT_EQ(r.Header("X-Frame-Options"), "DENY") << path;
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff") << path;
  }
  EXPECT_EQ(handler_->Handle(Get("/missing")).status, 404);
}

TEST_F(WebHandlerTest, PageHasNoInlineScript) {
  WebResponse r = handler_->Handle(Get("/"));
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, HasSubstr("text/html"));
  EXPECT_THAT(r.body, HasSubstr("<script src=\"/app.js\""));
  EXPECT_THAT(r.body, Not(HasSubstr("<script>")));
  EXPECT_THAT(r.body, Not(HasSubstr("onclick")));
  // Nothing from elsewhere (no CDN): every src and href is local.
  EXPECT_THAT(r.body, Not(HasSubstr("src=\"http")));
  EXPECT_THAT(r.body, Not(HasSubstr("href=\"http")));
  EXPECT_THAT(r.body, Not(HasSubstr("src=\"//")));
  EXPECT_THAT(r.body, Not(HasSubstr("href=\"//")));
  EXPECT_THAT(r.body, Not(HasSubstr("<style")));
  EXPECT_THAT(r.body, Not(HasSubstr(" style=")));
  // Not a single event-handler attribute.
  EXPECT_THAT(r.body, Not(::testing::ContainsRegex(" on[a-z]+=")));
}

TEST_F(WebHandlerTest, ClaimWithoutKeyShowsStateAndKeyFile) {
  WebResponse r = handler_->Handle(Get("/api/v3/claim"));
  ASSERT_EQ(r.status, 200);
  nlohmann::json body = Body(r);
  EXPECT_EQ(body["cloud"]["status"], "available");
  EXPECT_EQ(body["can_be_claimed"], true);
  EXPECT_EQ(body["key_filename"], key_->path());
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
  EXPECT_TRUE(node_.calls.empty());

  node_.Set(Claimed(node::kStatusOnline));
  body = Body(handler_->Handle(Get("/api/v2/claim")));
  EXPECT_EQ(body["can_be_claimed"], false);
  EXPECT_FALSE(body.contains("key_filename"));
}

TEST_F(WebHandlerTest, WrongKeyIs403AndRotates) {
  const std::string before = Key();
  auto params = GoodClaim();
  params["key"] = "00000000-0000-4000-8000-000000000000";
  WebResponse r = handler_->Handle(Get("/api/v3/claim", params));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "invalid key\n");
  EXPECT_NE(Key(), before);
  EXPECT_FALSE(key_->Matches(before));
  EXPECT_TRUE(node_.calls.empty());
}

TEST_F(WebHandlerTest, InvalidParametersAre400AndRotate) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"token", "tok en"},
           {"token", "<script>"},
           {"rooms", "room\"1"},
           {"url", "https://cloud.example/?a=b"},
           {"token", ""},
           {"url", ""}}) {
    auto params = GoodClaim();
    const std::string before = params["key"];
    params[name] = value;
    WebResponse r = handler_->Handle(Get("/api/v3/claim", params));
    EXPECT_EQ(r.status, 400) << name << "=" << value;
    EXPECT_EQ(r.body, "invalid parameters\n");
    EXPECT_FALSE(key_->Matches(before)) << name;
  }
  EXPECT_TRUE(node_.calls.empty());
}

TEST_F(WebHandlerTest, GoodClaimClaimsWaitsForOnlineAndRotates) {
  node_.after_claim = Claimed(node::kStatusOnline);
  auto params = GoodClaim();
  WebResponse r = handler_->Handle(Get("/api/v3/claim", params));
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = Body(r);
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["message"], "ok");
  EXPECT_EQ(body["cloud"]["status"], "online");
  EXPECT_EQ(body["can_be_claimed"], false);
  ASSERT_EQ(node_.calls, std::vector<std::string>{"claim"});
  EXPECT_EQ(node_.args[0].token, kToken);
  EXPECT_EQ(node_.args[0].url, "https://cloud.example");
  EXPECT_EQ(node_.args[0].rooms,
            (std::vector<std::string>{"room-1", "room-2"}));
  EXPECT_FALSE(key_->Matches(params["key"]));
  EXPECT_THAT(r.body, Not(HasSubstr(kToken)));
}

TEST_F(WebHandlerTest, ClaimThatStaysOfflineAnswersAfterTheWait) {
  node_.after_claim = Claimed(node::kStatusOffline);
  const MonotonicTime start = clock_.MonotonicNow();
  WebResponse r = handler_->Handle(Get("/api/v3/claim", GoodClaim()));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["success"], true);
  EXPECT_EQ(Body(r)["cloud"]["status"], "offline");
  EXPECT_EQ(clock_.MonotonicNow() - start, absl::Seconds(10));
}

TEST_F(WebHandlerTest, OfflineNodeIsReclaimed) {
  node_.Set(Claimed(node::kStatusOffline));
  node_.after_claim = Claimed(node::kStatusOnline);
  WebResponse r = handler_->Handle(Get("/api/v3/claim", GoodClaim()));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(node_.calls, std::vector<std::string>{"reclaim"});
}

TEST_F(WebHandlerTest, OnlineNodeIsNotClaimedAgain) {
  node_.Set(Claimed(node::kStatusOnline));
  auto params = GoodClaim();
  WebResponse r = handler_->Handle(Get("/api/v3/claim", params));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["success"], false);
  EXPECT_TRUE(node_.calls.empty());
  EXPECT_FALSE(key_->Matches(params["key"]));
}

TEST_F(WebHandlerTest, RejectedTokenIsReportedWithoutTheToken) {
  node_.claim_result =
      Error(absl::StatusCode::kPermissionDenied, reason::kTokenInvalid,
            absl::StrCat("the cloud rejected token ", kToken));
  WebResponse r = handler_->Handle(Get("/api/v3/claim", GoodClaim()));
  ASSERT_EQ(r.status, 200);
  nlohmann::json body = Body(r);
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["error_reason"], "TOKEN_INVALID");
  EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("TOKEN_INVALID"));
  EXPECT_THAT(r.body, Not(HasSubstr(kToken)));
  EXPECT_EQ(body["can_be_claimed"], true);
}

TEST_F(WebHandlerTest, PostWithJsonBody) {
  node_.after_claim = Claimed(node::kStatusOnline);
  WebRequest r = Get("/api/v3/claim");
  r.method = "POST";
  r.content_type = "application/json";
  r.body = nlohmann::json({{"key", Key()},
                           {"token", kToken},
                           {"rooms", {"r1", "r2"}},
                           {"url", "https://cloud.example"}})
               .dump();
  WebResponse answer = handler_->Handle(r);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(Body(answer)["success"], true);
  EXPECT_EQ(node_.args.at(0).rooms, (std::vector<std::string>{"r1", "r2"}));

  r.body = "{not json";
  EXPECT_EQ(handler_->Handle(r).status, 400);
  r.content_type = "application/x-www-form-urlencoded";
  EXPECT_EQ(handler_->Handle(r).status, 415);
}

TEST_F(WebHandlerTest, ForeignOriginIsRefusedOnClaim) {
  auto params = GoodClaim();
  for (const std::string origin :
       {"http://evil.example", "null", "http://127.0.0.1:1"}) {
    WebRequest r = Get("/api/v3/claim", params);
    r.origin = origin;
    WebResponse answer = handler_->Handle(r);
    EXPECT_EQ(answer.status, 403) << origin;
    EXPECT_EQ(answer.body, "foreign origin\n");
  }
  WebRequest cross = Get("/api/v3/claim", params);
  cross.sec_fetch_site = "cross-site";
  EXPECT_EQ(handler_->Handle(cross).status, 403);
  EXPECT_TRUE(node_.calls.empty());
  // The key was not spent by refused requests.
  EXPECT_TRUE(key_->Matches(params["key"]));

  node_.after_claim = Claimed(node::kStatusOnline);
  WebRequest same = Get("/api/v3/claim", params);
  same.origin = "http://127.0.0.1:19990";
  same.sec_fetch_site = "same-origin";
  EXPECT_EQ(handler_->Handle(same).status, 200);
  EXPECT_EQ(node_.calls.size(), 1u);
}

TEST_F(WebHandlerTest, NonLoopbackHostIsRefused) {
  for (const std::string host : {"evil.example", "evil.example:19990",
                                 "10.0.0.1:19990", "", "[::2]:1"}) {
    WebRequest r = Get("/api/v3/info");
    r.host = host;
    EXPECT_EQ(handler_->Handle(r).status, 403) << host;
  }
  for (const std::string host :
       {"localhost:19990", "127.0.0.1", "127.1.2.3:80", "[::1]:19990"}) {
    WebRequest r = Get("/api/v3/info");
    r.host = host;
    EXPECT_EQ(handler_->Handle(r).status, 200) << host;
  }
}

TEST_F(WebHandlerTest, OtherMethodsAre405) {
  WebRequest r = Get("/api/v3/info");
  r.method = "DELETE";
  EXPECT_EQ(handler_->Handle(r).status, 405);
  r.path = "/api/v3/claim";
  EXPECT_EQ(handler_->Handle(r).status, 405);
}

TEST(ClaimParameterTest, OnlyTheAgentsCharacters) {
  EXPECT_TRUE(IsValidClaimParameter("aZ09.,:/_-"));
  EXPECT_TRUE(IsValidClaimParameter(""));
  for (const std::string bad :
       {" ", "<", "\"", "'", "&", "?", "=", "%", "\n", "\xc3\xa9"}) {
    EXPECT_FALSE(IsValidClaimParameter("a" + bad)) << bad;
  }
}

}  // namespace
}  // namespace cloudlink::web

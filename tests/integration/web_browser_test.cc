// The local page in headless Chromium (tests/integration/fixtures/chromium.h)
// against the real cloudlinkd and dev cloud: the Connect flow to online, a
// wrong key and a rejected token shown in plain words, script injected
// through the form's values shown as text and never run, and the state
// following the broker as it stops and starts. Each test saves screenshots
// to the test's outputs (outputs.zip under .bazel/testlogs).

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/fixtures/chromium.h"
#include "tests/integration/link_test_base.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// A JavaScript string literal for `text` (JSON strings are JavaScript).
std::string Js(const std::string& text) { return json(text).dump(); }

// `text` with every byte but [A-Za-z0-9] as %XX (for a URL's fragment).
std::string PercentEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c)) {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

class WebBrowserTest : public LinkTestBase {
 protected:
  void SetUp() override {
    LinkTestBase::SetUp();
    if (HasFatalFailure()) return;
    port_ = testing::PickFreePort();
    CloudlinkdOptions options = TrustingOptions();
    options.http_listen = absl::StrCat("127.0.0.1:", port_);
    daemon_ = StartDaemon(std::move(options));
    ASSERT_NE(daemon_, nullptr);
    ASSERT_TRUE(testing::WaitFor(
        [&] { return testing::LoopbackPortAcceptsConnections(port_); },
        absl::Seconds(10)));
    auto browser = Chromium::Start(tmp_.Join("chromium"));
    ASSERT_TRUE(browser.ok()) << browser.status();
    browser_ = *std::move(browser);
  }

  void TearDown() override {
    if (browser_ != nullptr) {
      EXPECT_EQ(browser_->dialogs(), 0) << "the page opened a dialog";
      EXPECT_THAT(browser_->exceptions(), ::testing::IsEmpty());
      browser_.reset();
    }
    LinkTestBase::TearDown();
  }

  std::string PageUrl(const std::string& fragment = "") const {
    return absl::StrCat("http://127.0.0.1:", port_, "/", fragment);
  }

  std::string Key() const {
    std::string key =
        testing::ReadFileOrEmpty(daemon_->lib_dir() + "/claim_session_key");
    if (!key.empty() && key.back() == '\n') key.pop_back();
    return key;
  }

  std::string Text(const std::string& id) {
    auto value = browser_->Evaluate(
        absl::StrCat("document.getElementById(", Js(id), ").textContent"));
    return value.ok() && value->is_string() ? value->get<std::string>() : "";
  }

  // Opens the page and waits until it shows the Connect form.
  void OpenConnectForm(const std::string& fragment = "") {
    ASSERT_TRUE(browser_->Navigate(PageUrl(fragment)).ok());
    ASSERT_TRUE(browser_->WaitFor("!document.getElementById('connect').hidden",
                                  absl::Seconds(10)));
  }

  // Types `value` into the field `id` (as a person would: focus, value,
  // input event).
  void Fill(const std::string& id, const std::string& value) {
    ASSERT_TRUE(browser_
                    ->Evaluate(absl::StrCat(
                        "(() => { const e = document.getElementById(", Js(id),
                        "); e.focus(); e.value = ", Js(value),
                        "; e.dispatchEvent(new Event('input')); })()"))
                    .ok());
  }

  // Presses Enter in the key field (submits the form) and waits for a
  // result other than "wait".
  void Submit() {
    ASSERT_TRUE(browser_
                    ->Evaluate("document.getElementById('connect-form')"
                               ".requestSubmit()")
                    .ok());
    ASSERT_TRUE(browser_->WaitFor(
        "['ok','error'].includes(document.getElementById('result')"
        ".dataset.kind)",
        absl::Seconds(25)))
        << Text("result");
  }

  void FillForm(const std::string& token, const std::string& key) {
    Fill("token", token);
    Fill("rooms", cloud_->Env("ROOMS"));
    Fill("url", cloud_->url());
    Fill("key", key);
  }

  int port_ = 0;
  CloudlinkdProcess* daemon_ = nullptr;
  std::unique_ptr<Chromium> browser_;
};

TEST_F(WebBrowserTest, ConnectFlowToOnline) {
  OpenConnectForm();
  EXPECT_EQ(Text("key-command"),
            "sudo cat " + daemon_->lib_dir() + "/claim_session_key");
  EXPECT_EQ(Text("status-badge"), "Not connected");
  browser_->SaveArtifact("page_available");
  FillForm(cloud_->Env("CLAIM_TOKEN"), Key());
  Submit();
  EXPECT_EQ(Text("result"), "Connected: the node is online.");
  const std::string claim_id = daemon_->ClaimedIdFile();
  EXPECT_THAT(Text("result-detail"), HasSubstr(claim_id));
  EXPECT_EQ(Text("status-badge"), "Online");
  EXPECT_EQ(Text("fact-claim-id"), claim_id);
  EXPECT_EQ(Text("fact-url"), cloud_->url());
  EXPECT_TRUE(browser_->WaitFor("document.getElementById('connect').hidden",
                                absl::Seconds(5)));
  EXPECT_TRUE(WaitForListedState(claim_id, "online"));
  browser_->SaveArtifact("page_online");
}

TEST_F(WebBrowserTest, WrongKeyAndRejectedTokenInPlainWords) {
  OpenConnectForm();
  const std::string key = Key();
  FillForm(cloud_->Env("CLAIM_TOKEN"), "00000000-0000-4000-8000-000000000000");
  Submit();
  EXPECT_EQ(Text("result"), "The key is wrong.");
  EXPECT_THAT(Text("result-detail"), HasSubstr("sudo cat "));
  EXPECT_NE(Key(), key) << "the key file did not change";
  browser_->SaveArtifact("page_wrong_key");

  FillForm("not-the-space-token", Key());
  Submit();
  EXPECT_THAT(Text("result"), HasSubstr("rejected the claim token"));
  EXPECT_EQ(Text("status-badge"), "Not connected");
  browser_->SaveArtifact("page_token_rejected");
}

TEST_F(WebBrowserTest, InjectedScriptIsShownAsTextAndNeverRuns) {
  const std::string rooms = "<img src=x onerror=\"window.__pwned=1\">";
  const std::string url = "<script>window.__pwned=2</script>";
  // Handed over in the fragment, as a cloud's page may link here.
  OpenConnectForm(absl::StrCat("#rooms=", PercentEncode(rooms),
                               "&url=", PercentEncode(url)));
  auto prefilled = browser_->Evaluate("document.getElementById('rooms').value");
  ASSERT_TRUE(prefilled.ok());
  EXPECT_EQ(*prefilled, rooms);
  Fill("token", cloud_->Env("CLAIM_TOKEN"));
  Fill("key", Key());
  Submit();
  EXPECT_EQ(Text("result"),
            "Some values have characters that are not allowed.");
  EXPECT_THAT(Text("result-detail"), HasSubstr(rooms));
  EXPECT_THAT(Text("result-detail"), HasSubstr(url));
  auto pwned = browser_->Evaluate("typeof window.__pwned");
  ASSERT_TRUE(pwned.ok());
  EXPECT_EQ(*pwned, "undefined");
  auto elements = browser_->Evaluate(
      "document.querySelectorAll('img, main script').length");
  ASSERT_TRUE(elements.ok());
  EXPECT_EQ(*elements, 0);
  browser_->SaveArtifact("page_injection_as_text");
  EXPECT_EQ(Text("status-badge"), "Not connected");
}

TEST_F(WebBrowserTest, LiveStateFollowsTheBroker) {
  std::string claim_id = Claim(daemon_, "");
  ASSERT_FALSE(claim_id.empty());
  WaitForStatus(daemon_, "online");
  ASSERT_TRUE(browser_->Navigate(PageUrl()).ok());
  ASSERT_TRUE(browser_->WaitFor(
      "document.getElementById('status-badge').textContent === 'Online'",
      absl::Seconds(10)));
  EXPECT_EQ(Text("fact-claim-id"), claim_id);

  ASSERT_TRUE(cloud_->StopBroker().ok());
  EXPECT_TRUE(browser_->WaitFor(
      "document.getElementById('status-badge').textContent === 'Offline'",
      absl::Seconds(20)));
  EXPECT_NE(Text("fact-reason"), "—");
  // Offline nodes can be claimed again: the form is offered.
  EXPECT_TRUE(browser_->WaitFor("!document.getElementById('connect').hidden",
                                absl::Seconds(5)));
  browser_->SaveArtifact("page_offline");

  ASSERT_TRUE(cloud_->StartBroker().ok());
  EXPECT_TRUE(browser_->WaitFor(
      "document.getElementById('status-badge').textContent === 'Online'",
      kOnlineWait));
  browser_->SaveArtifact("page_online_again");
}

// The seed flow in a browser: the token from the dev cloud's Space page,
// pasted into the node's page with the key; the node online on both pages;
// the token regenerated on the Space page and the old one refused.
TEST_F(WebBrowserTest, SpacePageConnectCommandNodesAndRegenerate) {
  const std::string space_page =
      absl::StrCat(cloud_->url(), "/space#space=", cloud_->Env("SPACE_ID"),
                   "&admin=", cloud_->Env("ADMIN_API_TOKEN"));
  ASSERT_TRUE(browser_->Navigate(space_page).ok());
  const std::string token = cloud_->Env("CLAIM_TOKEN");
  ASSERT_TRUE(browser_->WaitFor(
      absl::StrCat("document.getElementById('token').textContent === ",
                   Js(token)),
      absl::Seconds(10)))
      << Text("problem");
  EXPECT_EQ(
      Text("command"),
      absl::StrCat("tools/install --claim-token ", token, " --claim-rooms ",
                   cloud_->Env("ROOMS"), " --claim-url ", cloud_->url()));
  EXPECT_EQ(Text("no-nodes"), "No node has been claimed into this Space yet.");
  browser_->SaveArtifact("space_page_empty");

  // Copy the token from the Space page into the node's page.
  const std::string copied = Text("token");
  OpenConnectForm();
  FillForm(copied, Key());
  Submit();
  ASSERT_EQ(Text("result"), "Connected: the node is online.");
  const std::string claim_id = daemon_->ClaimedIdFile();

  ASSERT_TRUE(browser_->Navigate(space_page).ok());
  EXPECT_TRUE(browser_->WaitFor(
      absl::StrCat("[...document.querySelectorAll('#nodes tr')].some(r => "
                   "r.dataset.claimId === ",
                   Js(claim_id),
                   " && r.querySelector('.state').textContent === 'online')"),
      absl::Seconds(15)));
  browser_->SaveArtifact("space_page_node_online");

  ASSERT_TRUE(
      browser_->Evaluate("document.getElementById('regenerate').click()").ok());
  ASSERT_TRUE(browser_->WaitFor(
      absl::StrCat(
          "document.getElementById('token').textContent !== ", Js(token),
          " && document.getElementById('token')"
          ".textContent !== '…'"),
      absl::Seconds(10)));
  const std::string fresh = Text("token");
  EXPECT_THAT(Text("command"), HasSubstr(fresh));
  EXPECT_THAT(Text("regenerate-result"), HasSubstr("old one is refused"));
  browser_->SaveArtifact("space_page_regenerated");
  ASSERT_TRUE(cloud_->ReloadEnv().ok());
  EXPECT_EQ(cloud_->Env("CLAIM_TOKEN"), fresh);
  // The old token is refused by the claim API.
  auto client = cloud_->Client();
  auto refused =
      client->Put("/api/v1/spaces/nodes/0b9b2c6e-6a57-4f59-9d0e-3c1f1f7b8a11",
                  json({{"token", token}}).dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
}

}  // namespace
}  // namespace cloudlink::integration

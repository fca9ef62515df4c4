// The local HTTP endpoint end to end: the real cloudlinkd with
// --http-listen on a free loopback port, the real dev cloud, and plain HTTP
// requests. Covers /api/v3/info and the claim-by-key exchange through every
// status (available, online, offline, banned), the key file and its
// rotation, a rejected token, foreign Origins and Hosts, oversized requests,
// the connection cap, and 1,000 requests while the link flaps.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/integration/link_test_base.h"
#include "tests/testing/test_env.h"

namespace cloudlink::integration {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyFile[] = "claim_session_key";

class WebTest : public LinkTestBase {
 protected:
  // A daemon with the local endpoint on a free port.
  CloudlinkdProcess* StartWebDaemon() {
    port_ = testing::PickFreePort();
    CloudlinkdOptions options = TrustingOptions();
    options.http_listen = absl::StrCat("127.0.0.1:", port_);
    CloudlinkdProcess* daemon = StartDaemon(std::move(options));
    if (daemon == nullptr) return nullptr;
    // The endpoint starts right after the API; wait (bounded) for it.
    EXPECT_TRUE(testing::WaitFor(
        [&] { return testing::LoopbackPortAcceptsConnections(port_); },
        absl::Seconds(10)))
        << daemon->Stderr();
    return daemon;
  }

  std::unique_ptr<httplib::Client> Client() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client->set_connection_timeout(5);
    client->set_read_timeout(20);  // a claim waits up to 10 s
    client->set_write_timeout(5);
    return client;
  }

  // GET `path` (with `headers`); the answer, or a test failure and null.
  httplib::Result Get(const std::string& path,
                      const httplib::Headers& headers = {}) const {
    httplib::Result r = Client()->Get(path.c_str(), headers);
    EXPECT_TRUE(r) << path << ": " << httplib::to_string(r.error());
    return r;
  }

  json GetJson(const std::string& path) const {
    httplib::Result r = Get(path);
    if (!r) return json::object();
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  std::string KeyPath(CloudlinkdProcess* daemon) const {
    return daemon->lib_dir() + "/" + kKeyFile;
  }
  std::string Key(CloudlinkdProcess* daemon) const {
    std::string key = testing::ReadFileOrEmpty(KeyPath(daemon));
    if (!key.empty() && key.back() == '\n') key.pop_back();
    return key;
  }

  std::string ClaimPath(const std::string& key, const std::string& token,
                        const std::string& path = "/api/v3/claim") const {
    return absl::StrCat(path, "?key=", key, "&token=", token,
                        "&rooms=", cloud_->Env("ROOMS"),
                        "&url=", cloud_->url());
  }

  // Polls /api/v3/info until the cloud status is `status` (bounded).
  json WaitForInfoStatus(const std::string& status, absl::Duration timeout) {
    json info;
    testing::WaitFor(
        [&] {
          httplib::Result r = Client()->Get("/api/v3/info");
          if (!r || r->status != 200) return false;
          info = json::parse(r->body, nullptr, false);
          return info.is_object() && info["cloud"]["status"] == status;
        },
        timeout);
    EXPECT_EQ(info["cloud"]["status"], status) << info.dump(2);
    return info;
  }

  int port_ = 0;
};

TEST_F(WebTest, ClaimByKeyThroughEveryStatus) {
  CloudlinkdProcess* daemon = StartWebDaemon();
  ASSERT_NE(daemon, nullptr);

  // Available: the info and the claim answer without a key.
  json info = GetJson("/api/v3/info");
  EXPECT_EQ(info["cloud"]["status"], "available") << info.dump(2);
  EXPECT_EQ(info["agent"]["machine_guid"], daemon->MachineGuidFile());
  json exchange = GetJson("/api/v3/claim");
  EXPECT_EQ(exchange["can_be_claimed"], true);
  EXPECT_EQ(exchange["key_filename"], KeyPath(daemon));
  EXPECT_EQ(GetJson("/api/v2/claim")["key_filename"], KeyPath(daemon));

  // The key file: a UUID, owner and group only.
  struct stat st;
  ASSERT_EQ(stat(KeyPath(daemon).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  std::string key = Key(daemon);
  ASSERT_EQ(key.size(), 36u);

  // A wrong key: 403, and the key changed.
  httplib::Result r = Get(ClaimPath("00000000-0000-4000-8000-000000000000",
                                    cloud_->Env("CLAIM_TOKEN")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "invalid key\n");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_NE(Key(daemon), key);

  // Invalid parameters with the right key: 400, the key changed again.
  key = Key(daemon);
  r = Get(ClaimPath(key, "bad%3Ctoken%3E"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body, "invalid parameters\n");
  EXPECT_NE(Key(daemon), key);

  // A token the cloud rejects: success false with the reason.
  key = Key(daemon);
  exchange = GetJson(ClaimPath(key, "not-the-space-token"));
  EXPECT_EQ(exchange["success"], false) << exchange.dump(2);
  EXPECT_EQ(exchange["error_reason"], "TOKEN_INVALID") << exchange.dump(2);
  EXPECT_EQ(exchange["cloud"]["status"], "available");
  EXPECT_NE(Key(daemon), key);

  // The right key and token: claimed and online within the answer.
  key = Key(daemon);
  exchange = GetJson(ClaimPath(key, cloud_->Env("CLAIM_TOKEN")));
  EXPECT_EQ(exchange["success"], true) << exchange.dump(2);
  EXPECT_EQ(exchange["message"], "ok");
  EXPECT_EQ(exchange["cloud"]["status"], "online") << exchange.dump(2);
  EXPECT_EQ(exchange["can_be_claimed"], false);
  EXPECT_NE(Key(daemon), key);
  const std::string claim_id = daemon->ClaimedIdFile();
  EXPECT_EQ(exchange["cloud"]["claim_id"], claim_id);
  EXPECT_EQ(exchange["cloud"]["url"], cloud_->url());
  EXPECT_EQ(exchange["cloud"]["reason"], "");
  EXPECT_TRUE(WaitForListedState(claim_id, "online"));
  info = GetJson("/api/v3/info");
  EXPECT_EQ(info["cloud"]["status"], "online");
  EXPECT_GE(info["cloud"]["id"].get<int>(), 1);
  EXPECT_GE(info["cloud"]["age"].get<int>(), 0);

  // Offline while the broker is away, with the next attempt scheduled.
  ASSERT_TRUE(cloud_->StopBroker().ok());
  info = WaitForInfoStatus("offline", absl::Seconds(20));
  EXPECT_NE(info["cloud"]["reason"], "");
  EXPECT_EQ(info["cloud"]["claim_id"], claim_id);
  EXPECT_EQ(GetJson("/api/v3/claim")["can_be_claimed"], true);
  ASSERT_TRUE(cloud_->StartBroker().ok());
  WaitForInfoStatus("online", kOnlineWait);

  // Banned: the cloud says never again; the page cannot claim.
  ASSERT_TRUE(cloud_->DisconnectNode(claim_id, {{"permaban", true}}).ok());
  info = WaitForInfoStatus("banned", absl::Seconds(20));
  EXPECT_NE(info["cloud"]["reason"], "");
  exchange = GetJson("/api/v3/claim");
  EXPECT_EQ(exchange["can_be_claimed"], false);
  EXPECT_FALSE(exchange.contains("key_filename"));

  // The token never reached the log.
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr(cloud_->Env("CLAIM_TOKEN"))));
}

TEST_F(WebTest, PostClaimWithJsonBody) {
  CloudlinkdProcess* daemon = StartWebDaemon();
  ASSERT_NE(daemon, nullptr);
  const json body = {{"key", Key(daemon)},
                     {"token", cloud_->Env("CLAIM_TOKEN")},
                     {"rooms", cloud_->Env("ROOMS")},
                     {"url", cloud_->url()}};
  httplib::Result r =
      Client()->Post("/api/v3/claim", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = json::parse(r->body, nullptr, false);
  EXPECT_EQ(answer["success"], true) << r->body;
  EXPECT_EQ(answer["cloud"]["status"], "online");
  EXPECT_THAT(r->body, Not(HasSubstr(cloud_->Env("CLAIM_TOKEN"))));
}

TEST_F(WebTest, ForeignOriginAndHostAreRefused) {
  CloudlinkdProcess* daemon = StartWebDaemon();
  ASSERT_NE(daemon, nullptr);
  const std::string key = Key(daemon);
  const std::string path = ClaimPath(key, cloud_->Env("CLAIM_TOKEN"));
  httplib::Result r = Get(path, {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "foreign origin\n");
  r = Client()->Post("/api/v2/claim", {{"Origin", "http://evil.example"}}, "{}",
                     "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = Get(path, {{"Sec-Fetch-Site", "cross-site"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // DNS rebinding: a page of another name that resolves to 127.0.0.1.
  r = Get("/api/v3/info", {{"Host", "rebind.example:80"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // Nothing was claimed and the key was not spent.
  EXPECT_EQ(Key(daemon), key);
  EXPECT_EQ(GetJson("/api/v3/info")["cloud"]["status"], "available");
  // The same origin is fine.
  r = Get("/api/v3/claim",
          {{"Origin", absl::StrCat("http://127.0.0.1:", port_)}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// A connected, non-blocking TCP socket to 127.0.0.1:port (-1 on failure).
int ConnectNonBlocking(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

int OpenFds(pid_t pid) {
  int n = 0;
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n - 2;
}

TEST_F(WebTest, OversizedRequestsAndTheConnectionCap) {
  CloudlinkdProcess* daemon = StartWebDaemon();
  ASSERT_NE(daemon, nullptr);
  // A body over 16 KiB.
  httplib::Result r = Client()->Post(
      "/api/v3/claim", std::string(17 * 1024, 'x'), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // A request line over 8 KiB.
  r = Client()->Get(
      absl::StrCat("/api/v3/claim?token=", std::string(9000, 'a')).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
  // A header line over 8 KiB: refused (status or closed connection).
  r = Client()->Get("/api/v3/info", {{"X-Big", std::string(9000, 'b')}});
  if (r) {
    EXPECT_GE(r->status, 400);
  }
  // The key is not touched by refused requests, and the daemon answers.
  EXPECT_EQ(GetJson("/api/v3/info")["cloud"]["status"], "available");

  // 200 idle connections: the daemon holds at most workers (8) + queued
  // (16) + 1 of them; the rest wait in the kernel.
  const int before = OpenFds(daemon->process()->pid());
  ASSERT_GT(before, 0);
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    int fd = ConnectNonBlocking(port_);
    if (fd >= 0) idle.push_back(fd);
  }
  ASSERT_GT(idle.size(), 100u);
  // Let the accepting thread take what it may (bounded poll of the count).
  int most = before;
  testing::WaitFor(
      [&] {
        most = std::max(most, OpenFds(daemon->process()->pid()));
        return most >= before + 25;
      },
      absl::Seconds(3));
  EXPECT_LE(most, before + 8 + 16 + 1 + 2) << "before " << before;
  for (int fd : idle) close(fd);
  // Once they are gone (each closed socket ends its worker's read), the
  // daemon answers again within its I/O timeout.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        httplib::Result after = Client()->Get("/api/v3/info");
        return after && after->status == 200;
      },
      absl::Seconds(15)));
}

TEST_F(WebTest, ThousandRequestsWhileTheLinkFlaps) {
  CloudlinkdProcess* daemon = StartWebDaemon();
  ASSERT_NE(daemon, nullptr);
  json exchange = GetJson(ClaimPath(Key(daemon), cloud_->Env("CLAIM_TOKEN")));
  ASSERT_EQ(exchange["success"], true) << exchange.dump(2);

  auto client = Client();
  client->set_keep_alive(true);
  std::set<std::string> seen;
  absl::Duration slowest;
  bool broker_up = true;
  for (int i = 0; i < 1000; ++i) {
    if (i % 250 == 125) {
      // Flap: the broker goes away or comes back every 250 requests.
      ASSERT_TRUE(broker_up ? cloud_->StopBroker().ok()
                            : cloud_->StartBroker().ok());
      broker_up = !broker_up;
    }
    const absl::Time start = absl::Now();
    httplib::Result r = client->Get(i % 2 ? "/api/v3/info" : "/api/v3/claim");
    slowest = std::max(slowest, absl::Now() - start);
    ASSERT_TRUE(r) << "request " << i << ": " << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200) << r->body;
    json body = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r->body;
    seen.insert(body["cloud"]["status"].get<std::string>());
  }
  EXPECT_LT(slowest, absl::Seconds(2));
  EXPECT_TRUE(seen.count("offline")) << "the link never flapped";
  if (!broker_up) {
    ASSERT_TRUE(cloud_->StartBroker().ok());
  }
  WaitForInfoStatus("online", kOnlineWait);
  EXPECT_TRUE(daemon->State().ok());
}

TEST_F(WebTest, PageIsServedWithItsHeaders) {
  ASSERT_NE(StartWebDaemon(), nullptr);
  httplib::Result r = Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"),
              HasSubstr("script-src 'self'"));
  EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY");
  r = Get("/app.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace cloudlink::integration

#include "server/config/cloud_conf.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "server/common/error.h"

namespace cloudlink::config {
namespace {

constexpr char kPath[] = "/var/lib/cloudlink/cloud.d/cloud.conf";

CloudConf Sample() {
  CloudConf conf;
  conf.url = "https://app.netdata.cloud";
  conf.proxy = "http://bob:p#;=ss@proxy:3128";
  conf.token = "tokSECRET0123456789";
  conf.rooms = {"r1", "r-2"};
  conf.insecure = true;
  conf.machine_guid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
  conf.claimed_id = "53aa76c2-8af5-448f-849a-b16872cc4ba1";
  conf.hostname = "node-1";
  return conf;
}

TEST(CloudConfTest, SerializedForm) {
  absl::StatusOr<std::string> text = SerializeCloudConf(Sample(), kPath);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "# Written by cloudlinkd after a successful claim; do not edit.\n"
            "# Delete the cloud.d directory to unclaim this node.\n"
            "[global]\n"
            "    url = https://app.netdata.cloud\n"
            "    proxy = http://bob:p#;=ss@proxy:3128\n"
            "    token = tokSECRET0123456789\n"
            "    rooms = r1,r-2\n"
            "    insecure = yes\n"
            "    machine_guid = 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\n"
            "    claimed_id = 53aa76c2-8af5-448f-849a-b16872cc4ba1\n"
            "    hostname = node-1\n");
}

TEST(CloudConfTest, RoundTripExact) {
  CloudConf empty;
  for (const CloudConf& conf : {Sample(), empty}) {
    absl::StatusOr<std::string> text = SerializeCloudConf(conf, kPath);
    ASSERT_TRUE(text.ok()) << text.status();
    absl::StatusOr<CloudConf> parsed = ParseCloudConf(*text, kPath);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, conf);
    absl::StatusOr<std::string> again = SerializeCloudConf(*parsed, kPath);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *text);
  }
}

TEST(CloudConfTest, SourceIsWrittenLastAndReadBack) {
  CloudConf conf = Sample();
  conf.source = "rpc";
  absl::StatusOr<std::string> text = SerializeCloudConf(conf, kPath);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_TRUE(
      absl::EndsWith(*text, "    hostname = node-1\n    source = rpc\n"))
      << *text;
  absl::StatusOr<CloudConf> parsed = ParseCloudConf(*text, kPath);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, conf);
}

TEST(CloudConfTest, ForwardCompatibleAndDefaults) {
  absl::StatusOr<CloudConf> conf = ParseCloudConf(
      "[global]\n url = https://x\n future_key = 1\n[future]\n url = ignored\n",
      kPath);
  ASSERT_TRUE(conf.ok()) << conf.status();
  EXPECT_EQ(conf->url, "https://x");
  EXPECT_TRUE(conf->token.empty());
  EXPECT_FALSE(conf->insecure);
  EXPECT_TRUE(conf->rooms.empty());
}

TEST(CloudConfTest, ParseErrorsNameFileAndLineNotToken) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"[global]\ninsecure = sometimes\n",
                "CONFIG_INVALID: /var/lib/cloudlink/cloud.d/cloud.conf:2: "
                "insecure must be yes or no"},
           Case{"[global]\nclaimed_id = not-a-uuid\n",
                "CONFIG_INVALID: /var/lib/cloudlink/cloud.d/cloud.conf:2: "
                "claimed_id must be a UUID"},
           Case{"[global]\nmachine_guid = 123\n",
                "CONFIG_INVALID: /var/lib/cloudlink/cloud.d/cloud.conf:2: "
                "machine_guid must be a UUID"},
           Case{"[global]\ntoken = aSECRET\ntoken = bSECRET\n",
                "CONFIG_INVALID: /var/lib/cloudlink/cloud.d/cloud.conf:3: "
                "'token' is set twice (first at line 2)"},
           Case{"[global]\naSECRETtoken\n",
                "CONFIG_INVALID: /var/lib/cloudlink/cloud.d/cloud.conf:2: "
                "expected 'key = value' or '[section]'; comment lines start "
                "with '#' or ';'"},
       }) {
    absl::StatusOr<CloudConf> conf = ParseCloudConf(c.text, kPath);
    ASSERT_FALSE(conf.ok()) << c.text;
    EXPECT_EQ(conf.status().message(), c.message);
    EXPECT_FALSE(absl::StrContains(conf.status().message(), "SECRET"));
  }
}

TEST(CloudConfTest, SerializeRefusesUnwritableValues) {
  CloudConf conf = Sample();
  conf.token = "tokSECRET\nurl = https://evil";
  absl::StatusOr<std::string> text = SerializeCloudConf(conf, kPath);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(ReasonOf(text.status()), "CONFIG_INVALID");
  EXPECT_FALSE(absl::StrContains(text.status().message(), "SECRET"));
  conf = Sample();
  conf.hostname = " padded";
  EXPECT_FALSE(SerializeCloudConf(conf, kPath).ok());
  for (const char* room : {"", "a,b", "a b"}) {
    conf = Sample();
    conf.rooms = {"ok", room};
    text = SerializeCloudConf(conf, kPath);
    ASSERT_FALSE(text.ok()) << room;
    EXPECT_TRUE(absl::StrContains(text.status().message(), "room 2"));
  }
}

}  // namespace
}  // namespace cloudlink::config

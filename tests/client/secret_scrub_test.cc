#include "client/secret_scrub.h"

#include <string>
#include <vector>

#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/redact.h"

namespace cloudlink::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(CollectSecretsTest, TakesTheSecretFieldsOnly) {
  cloudlink::v1::ClaimRequest claim;
  claim.set_token("claim-token-value");
  claim.set_url("https://cloud.example");
  claim.set_proxy("none");
  std::vector<std::string> secrets;
  CollectSecrets(claim, &secrets);
  EXPECT_THAT(secrets, ElementsAre("claim-token-value"));

  cloudlink::v1::RegenerateTokenRequest regenerate;
  regenerate.set_space_id("space");
  regenerate.set_api_token("api-token-value");
  CollectSecrets(regenerate, &secrets);
  EXPECT_THAT(secrets, ElementsAre("claim-token-value", "api-token-value"));
}

TEST(CollectSecretsTest, EmptySecretsAreSkipped) {
  cloudlink::v1::ClaimRequest claim;
  std::vector<std::string> secrets;
  CollectSecrets(claim, &secrets);
  EXPECT_THAT(secrets, IsEmpty());
}

// Every occurrence of every secret is shown as RedactSecret shows it, and
// nothing of it is left.
TEST(ScrubTest, SecretsShowAsRedactSecret) {
  const std::string token(72, 'T');
  const std::string text = "TOKEN_MALFORMED: token " + token +
                           " is malformed (" + token + "); api key abc123";
  const std::string scrubbed = Scrub(text, {token, "abc123", ""});
  EXPECT_EQ(scrubbed, "TOKEN_MALFORMED: token " + RedactSecret(token) +
                          " is malformed (" + RedactSecret(token) +
                          "); api key " + RedactSecret("abc123"));
  EXPECT_THAT(scrubbed, Not(HasSubstr("TTTT")));
  EXPECT_THAT(scrubbed, Not(HasSubstr("abc")));
  EXPECT_EQ(Scrub("nothing secret here", {}), "nothing secret here");
}

}  // namespace
}  // namespace cloudlink::client

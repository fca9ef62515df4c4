#include "server/api/authorizer.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cloudlink/v1/cloudlink.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "server/api/peer_credentials.h"
#include "server/common/error.h"

namespace cloudlink::api {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr gid_t kAdminGid = 5000;
constexpr gid_t kOtherGid = 100;

const std::vector<std::string>& AllMethods() {
  static const auto* methods = new std::vector<std::string>{
      "Claim",    "Reclaim",    "RegenerateToken", "ReloadClaimingState",
      "GetState", "WatchState", "Publish"};
  return *methods;
}

bool IsRead(const std::string& method) {
  return method == "GetState" || method == "WatchState";
}

UnixCredentials Caller(uid_t uid, gid_t gid, std::vector<gid_t> groups = {}) {
  UnixCredentials caller;
  caller.pid = 4242;
  caller.uid = uid;
  caller.gid = gid;
  caller.groups = std::move(groups);
  caller.groups.push_back(gid);
  return caller;
}

UnixPolicy WithAdminGroup() {
  UnixPolicy policy;
  policy.admin_group = "cloudlink";
  policy.admin_gid = kAdminGid;
  policy.socket_gid = kAdminGid;
  return policy;
}

UnixPolicy WithoutAdminGroup(gid_t socket_gid) {
  UnixPolicy policy;
  policy.admin_group = "cloudlink";
  policy.socket_gid = socket_gid;
  return policy;
}

Authorizer UnixOnly(UnixPolicy policy) {
  return Authorizer(std::move(policy), AllowedSubjects(), nullptr);
}

TEST(RequiredAccessTest, OnlyGetStateAndWatchStateAreReadCalls) {
  const google::protobuf::ServiceDescriptor* service =
      cloudlink::v1::State::descriptor()->file()->pool()->FindServiceByName(
          "cloudlink.v1.CloudLink");
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string name = service->method(i)->name();
    EXPECT_EQ(RequiredAccess(name),
              IsRead(name) ? Access::kRead : Access::kAdmin)
        << name;
  }
  // A method the table does not know (added later) needs admin.
  EXPECT_EQ(RequiredAccess("SomethingNew"), Access::kAdmin);
}

struct UnixCase {
  const char* name;
  UnixCredentials caller;
  bool read_allowed;
  bool admin_allowed;
};

TEST(AuthorizerTest, UnixPolicyTableWithAdminGroup) {
  const Authorizer authorizer = UnixOnly(WithAdminGroup());
  const UnixCase cases[] = {
      {"root", Caller(0, 0), true, true},
      {"root with another gid", Caller(0, kOtherGid), true, true},
      {"admin group as gid", Caller(1000, kAdminGid), true, true},
      {"admin group as account group",
       Caller(1000, kOtherGid, {kOtherGid, kAdminGid}), true, true},
      {"no group", Caller(1000, kOtherGid), false, false},
      {"nobody", Caller(65534, 65534), false, false},
  };
  for (const UnixCase& c : cases) {
    for (const std::string& method : AllMethods()) {
      const bool expected = IsRead(method) ? c.read_allowed : c.admin_allowed;
      const absl::Status status = authorizer.CheckUnix(c.caller, method);
      EXPECT_EQ(status.ok(), expected)
          << c.name << " " << method << ": " << status;
      if (!status.ok()) {
        EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
        EXPECT_EQ(ReasonOf(status), "CALLER_NOT_AUTHORIZED");
      }
    }
  }
}

TEST(AuthorizerTest, UnixPolicyTableWithoutAdminGroup) {
  // The group does not exist: the socket stays in the daemon's group (here
  // 0), whose members may read; only root may change anything.
  const Authorizer authorizer = UnixOnly(WithoutAdminGroup(0));
  const UnixCase cases[] = {
      {"root", Caller(0, 0), true, true},
      {"socket group as gid", Caller(1000, 0), true, false},
      {"socket group as account group", Caller(1000, kOtherGid, {0}), true,
       false},
      {"the group's old number means nothing", Caller(1000, kAdminGid), false,
       false},
      {"no group", Caller(1000, kOtherGid), false, false},
  };
  for (const UnixCase& c : cases) {
    for (const std::string& method : AllMethods()) {
      const bool expected = IsRead(method) ? c.read_allowed : c.admin_allowed;
      EXPECT_EQ(authorizer.CheckUnix(c.caller, method).ok(), expected)
          << c.name << " " << method;
    }
  }
}

TEST(AuthorizerTest, UnixRefusalNamesUidAndWhatItLacks) {
  const Authorizer with_group = UnixOnly(WithAdminGroup());
  EXPECT_THAT(
      std::string(
          with_group.CheckUnix(Caller(1234, kOtherGid), "Claim").message()),
      AllOf(HasSubstr("CALLER_NOT_AUTHORIZED: uid 1234 is not root and not in "
                      "group cloudlink"),
            HasSubstr("Claim")));
  EXPECT_THAT(
      std::string(
          with_group.CheckUnix(Caller(1234, kOtherGid), "GetState").message()),
      HasSubstr("uid 1234 is not root and not in group "));

  const Authorizer without_group = UnixOnly(WithoutAdminGroup(0));
  const std::string root_group = GroupName(0);
  EXPECT_THAT(
      std::string(
          without_group.CheckUnix(Caller(1234, 0), "Reclaim").message()),
      AllOf(HasSubstr("uid 1234 is not root, and group cloudlink does "
                      "not exist"),
            HasSubstr("Reclaim needs root")));
  EXPECT_THAT(
      std::string(without_group.CheckUnix(Caller(1234, kOtherGid), "WatchState")
                      .message()),
      HasSubstr("not in group " + root_group +
                " (the socket's group) nor in group cloudlink"));
}

DistinguishedName Dn(const char* text) {
  absl::StatusOr<DistinguishedName> dn = DistinguishedName::Parse(text);
  EXPECT_TRUE(dn.ok()) << text << ": " << dn.status();
  return *dn;
}

absl::StatusOr<AllowedSubjects> Subjects() {
  return AllowedSubjects::Parse(
      "# remote clients\n"
      "admin CN=ops,O=Example\n"
      "read dashboard\n",
      "subjects");
}

TEST(AuthorizerTest, TlsPolicyTable) {
  absl::StatusOr<AllowedSubjects> subjects = Subjects();
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  const Authorizer authorizer(WithAdminGroup(), *subjects, nullptr);
  struct TlsCase {
    const char* subject;
    bool read_allowed;
    bool admin_allowed;
  } cases[] = {
      {"CN=ops,O=Example", true, true},
      {"O=Example,CN=ops", true, true},  // attribute order
      {"CN=ops,O=Elsewhere", false, false},
      {"CN=dashboard,O=Anyone", true, false},
      {"CN=stranger,O=Example", false, false},
      {"CN=Dashboard", false, false},  // values are exact
      // Crafted names that a joined-text comparison would confuse.
      {"CN=ops\\0AO=Example", false, false},
      {"CN=ops+O=Example", false, false},
      {"CN=dashboard\\0A", false, false},
  };
  for (const TlsCase& c : cases) {
    for (const std::string& method : AllMethods()) {
      const bool expected = IsRead(method) ? c.read_allowed : c.admin_allowed;
      const absl::Status status = authorizer.CheckTls(Dn(c.subject), method);
      EXPECT_EQ(status.ok(), expected) << c.subject << " " << method;
      if (!status.ok()) {
        EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
        EXPECT_THAT(std::string(status.message()), HasSubstr(c.subject));
      }
    }
  }
}

TEST(AuthorizerTest, TlsRefusalSaysWhetherListedReadOnlyOrNotAtAll) {
  absl::StatusOr<AllowedSubjects> subjects = Subjects();
  ASSERT_TRUE(subjects.ok());
  const Authorizer authorizer(WithAdminGroup(), *subjects, nullptr);
  EXPECT_THAT(
      std::string(
          authorizer.CheckTls(Dn("CN=dashboard,O=X"), "Claim").message()),
      AllOf(HasSubstr("CALLER_NOT_AUTHORIZED"), HasSubstr("read-only"),
            HasSubstr("Claim")));
  EXPECT_THAT(
      std::string(authorizer.CheckTls(Dn("CN=stranger"), "GetState").message()),
      HasSubstr("\"CN=stranger\" is not in the allowed subjects"));
}

TEST(AuthorizerTest, APublisherMayPublishAndReadOnly) {
  absl::StatusOr<AllowedSubjects> subjects =
      AllowedSubjects::Parse("publish CN=producer,O=Example\n", "subjects");
  ASSERT_TRUE(subjects.ok()) << subjects.status();
  UnixPolicy policy = WithAdminGroup();
  policy.publisher_group = "producers";
  policy.publisher_gid = kOtherGid;
  const Authorizer authorizer(policy, *subjects, nullptr);
  for (const std::string& method : AllMethods()) {
    const bool allowed = IsRead(method) || method == "Publish";
    const absl::Status tls =
        authorizer.CheckTls(Dn("CN=producer,O=Example"), method);
    EXPECT_EQ(tls.ok(), allowed) << method;
    const absl::Status unix_call =
        authorizer.CheckUnix(Caller(1234, 100, {kOtherGid}), method);
    EXPECT_EQ(unix_call.ok(), allowed) << method;
    if (!allowed) {
      EXPECT_THAT(std::string(tls.message()),
                  AllOf(HasSubstr("CALLER_NOT_AUTHORIZED"),
                        HasSubstr("publish and read only")));
      EXPECT_THAT(std::string(unix_call.message()),
                  HasSubstr("(--publisher-group), which may publish and read "
                            "only"));
    }
  }
}

TEST(AuthorizerTest, SetSubjectsTakesEffectForTheNextCall) {
  Authorizer authorizer(WithAdminGroup(), AllowedSubjects(), nullptr);
  EXPECT_FALSE(authorizer.CheckTls(Dn("CN=ops"), "GetState").ok());
  absl::StatusOr<AllowedSubjects> subjects =
      AllowedSubjects::Parse("read ops\n", "subjects");
  ASSERT_TRUE(subjects.ok());
  authorizer.SetSubjects(*subjects);
  EXPECT_TRUE(authorizer.CheckTls(Dn("CN=ops"), "GetState").ok());
  authorizer.SetSubjects(AllowedSubjects());
  EXPECT_FALSE(authorizer.CheckTls(Dn("CN=ops"), "GetState").ok());
}

TEST(AuthorizerTest, NoAllowedSubjectsRefusesEveryTlsClient) {
  const Authorizer authorizer = UnixOnly(WithAdminGroup());
  EXPECT_FALSE(authorizer.CheckTls(Dn("CN=ops,O=Example"), "GetState").ok());
}

}  // namespace
}  // namespace cloudlink::api

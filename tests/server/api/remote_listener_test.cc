#include "server/api/remote_listener.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "tests/server/api/test_pki.h"
#include "tests/testing/test_env.h"

namespace cloudlink::api {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

RemoteListenerFlags Complete() {
  RemoteListenerFlags flags;
  flags.listen = "127.0.0.1:7443";
  flags.tls_cert = "/etc/cl/server.pem";
  flags.tls_key = "/etc/cl/server.key";
  flags.tls_client_ca = "/etc/cl/clients-ca.pem";
  flags.allowed_subjects = "/etc/cl/subjects";
  return flags;
}

TEST(CheckRemoteListenerFlagsTest, NoListenerAndNoTlsFlagsIsFine) {
  EXPECT_TRUE(CheckRemoteListenerFlags(RemoteListenerFlags()).ok());
}

TEST(CheckRemoteListenerFlagsTest, CompleteFlagsAreFine) {
  RemoteListenerFlags flags = Complete();
  for (const char* address : {"127.0.0.1:7443", "0.0.0.0:1", "[::1]:65535",
                              "[::]:7443", "node1.example.com:7443"}) {
    flags.listen = address;
    EXPECT_TRUE(CheckRemoteListenerFlags(flags).ok()) << address;
  }
}

TEST(CheckRemoteListenerFlagsTest, ListenNeedsEveryTlsFile) {
  struct {
    std::string RemoteListenerFlags::*field;
    const char* flag;
  } fields[] = {
      {&RemoteListenerFlags::tls_cert, "--tls-cert"},
      {&RemoteListenerFlags::tls_key, "--tls-key"},
      {&RemoteListenerFlags::tls_client_ca, "--tls-client-ca"},
      {&RemoteListenerFlags::allowed_subjects, "--tls-allowed-subjects"},
  };
  for (const auto& field : fields) {
    RemoteListenerFlags flags = Complete();
    flags.*field.field = "";
    absl::Status status = CheckRemoteListenerFlags(flags);
    ASSERT_FALSE(status.ok()) << field.flag;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                AllOf(HasSubstr("REMOTE_FLAGS_INVALID: --listen needs"),
                      HasSubstr(field.flag), HasSubstr("mutual TLS")));
  }
}

TEST(CheckRemoteListenerFlagsTest, TlsFlagsWithoutListenAreRefused) {
  RemoteListenerFlags flags;
  flags.tls_cert = "/etc/cl/server.pem";
  absl::Status status = CheckRemoteListenerFlags(flags);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("--tls-cert is only used with --listen"));
}

TEST(CheckRemoteListenerFlagsTest, MalformedAddresses) {
  RemoteListenerFlags flags = Complete();
  for (const char* address : {"7443", "127.0.0.1", ":7443", "127.0.0.1:0",
                              "127.0.0.1:65536", "127.0.0.1:http", "::1:7443",
                              "[]:7443", "unix:/tmp/x.sock", "127.0.0.1:-1"}) {
    flags.listen = address;
    absl::Status status = CheckRemoteListenerFlags(flags);
    EXPECT_FALSE(status.ok()) << address;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("--listen must be ADDRESS:PORT"))
        << address;
  }
}

class LoadMutualTlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TestPki> pki =
        testing::TestPki::Create(dir_.path(), "main");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = std::make_unique<testing::TestPki>(*pki);
    absl::StatusOr<testing::CertFiles> server = pki_->IssueServer("server");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    absl::StatusOr<testing::CertFiles> other =
        pki_->IssueClient("other", "/CN=other");
    ASSERT_TRUE(other.ok()) << other.status();
    other_ = *other;
    flags_ = Complete();
    flags_.tls_cert = server_.cert;
    flags_.tls_key = server_.key;
    flags_.tls_client_ca = pki_->ca_cert();
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestPki> pki_;
  testing::CertFiles server_;
  testing::CertFiles other_;
  RemoteListenerFlags flags_;
};

TEST_F(LoadMutualTlsCredentialsTest, GoodFilesGiveCredentials) {
  absl::StatusOr<std::shared_ptr<TlsServerContext>> credentials =
      LoadMutualTlsCredentials(flags_);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_NE(*credentials, nullptr);
}

TEST_F(LoadMutualTlsCredentialsTest, EachBadFileIsNamed) {
  const std::string garbage = dir_.Join("garbage.pem");
  ASSERT_TRUE(testing::WriteFile(garbage, "not a pem file\n").ok());
  const std::string key_text = testing::ReadFileOrEmpty(server_.key);
  struct {
    std::string RemoteListenerFlags::*field;
    std::string value;
    const char* expected;
  } cases[] = {
      {&RemoteListenerFlags::tls_cert, dir_.Join("missing.pem"), "--tls-cert"},
      {&RemoteListenerFlags::tls_cert, garbage, "holds no PEM certificate"},
      {&RemoteListenerFlags::tls_key, garbage, "holds no unencrypted PEM"},
      {&RemoteListenerFlags::tls_key, other_.key,
       "does not belong to the certificate"},
      {&RemoteListenerFlags::tls_client_ca, garbage, "--tls-client-ca"},
  };
  for (const auto& c : cases) {
    RemoteListenerFlags flags = flags_;
    flags.*c.field = c.value;
    absl::StatusOr<std::shared_ptr<TlsServerContext>> credentials =
        LoadMutualTlsCredentials(flags);
    ASSERT_FALSE(credentials.ok()) << c.expected;
    EXPECT_EQ(ReasonOf(credentials.status()), "TLS_FILE_INVALID");
    const std::string message(credentials.status().message());
    EXPECT_THAT(message, AllOf(HasSubstr(c.expected), HasSubstr(c.value)));
    // A private key never appears in an error.
    EXPECT_THAT(message, Not(HasSubstr("PRIVATE KEY")));
    EXPECT_THAT(message, Not(HasSubstr(key_text.substr(40, 20))));
  }
}

}  // namespace
}  // namespace cloudlink::api

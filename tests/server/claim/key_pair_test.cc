#include "server/claim/key_pair.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error.h"
#include "server/state/file_system.h"
#include "server/state/state_dir.h"
#include "tests/testing/test_env.h"

namespace cloudlink::claim {
namespace {

using ::cloudlink::testing::FileMode;
using ::cloudlink::testing::ReadFileOrEmpty;
using ::cloudlink::testing::TempDir;
using ::cloudlink::testing::WriteFile;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::unique_ptr<BIO, BioFree> MemBio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Pkey ParsePublic(const std::string& pem) {
  return Pkey(
      PEM_read_bio_PUBKEY(MemBio(pem).get(), nullptr, nullptr, nullptr));
}

Pkey ParsePrivate(const std::string& pem) {
  return Pkey(
      PEM_read_bio_PrivateKey(MemBio(pem).get(), nullptr, nullptr, nullptr));
}

// RSA-OAEP encryption with `md` for OAEP and MGF1, as the cloud does for the
// challenge (with SHA-1).
std::string Encrypt(EVP_PKEY* key, const std::string& plain, const EVP_MD* md) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key, nullptr));
  EXPECT_EQ(EVP_PKEY_encrypt_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md), 1);
  EXPECT_EQ(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md), 1);
  const auto* in = reinterpret_cast<const unsigned char*>(plain.data());
  size_t len = 0;
  EXPECT_EQ(EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, plain.size()), 1);
  std::string out(len, '\0');
  EXPECT_EQ(
      EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                       &len, in, plain.size()),
      1);
  out.resize(len);
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

class KeyPairTest : public ::testing::Test {
 protected:
  KeyPairTest() : dir_(tmp_.Join("lib"), &fs_) {}

  std::string Ensure() {
    absl::StatusOr<std::string> pem = EnsureKeyPair(dir_, &fs_);
    EXPECT_TRUE(pem.ok()) << pem.status();
    return pem.ok() ? *pem : "";
  }

  TempDir tmp_;
  state::PosixFileSystem fs_;
  state::StateDir dir_;
};

TEST_F(KeyPairTest, GeneratesAParsingRsa2048PairWithModes) {
  const mode_t old_mask = umask(0);  // the modes must not depend on it
  const std::string pem = Ensure();
  umask(old_mask);
  EXPECT_EQ(ReadFileOrEmpty(dir_.PublicKeyPath()), pem);
  EXPECT_EQ(FileMode(dir_.CloudDir()), 0700);
  EXPECT_EQ(FileMode(dir_.PrivateKeyPath()), 0600);
  EXPECT_EQ(FileMode(dir_.PublicKeyPath()), 0644);

  Pkey pub = ParsePublic(pem);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_base_id(pub.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_bits(pub.get()), 2048);
  EXPECT_THAT(pem, ::testing::StartsWith("-----BEGIN PUBLIC KEY-----"));

  const std::string priv_pem = ReadFileOrEmpty(dir_.PrivateKeyPath());
  EXPECT_THAT(priv_pem, ::testing::StartsWith("-----BEGIN PRIVATE KEY-----"));
  Pkey priv = ParsePrivate(priv_pem);
  ASSERT_NE(priv, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(pub.get(), priv.get()), 1) << "not one pair";
}

TEST_F(KeyPairTest, ReusesAnExistingPair) {
  const std::string first = Ensure();
  const std::string priv = ReadFileOrEmpty(dir_.PrivateKeyPath());
  state::StateDir again(tmp_.Join("lib"), &fs_);
  absl::StatusOr<std::string> second = EnsureKeyPair(again, &fs_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, first);
  EXPECT_EQ(ReadFileOrEmpty(dir_.PrivateKeyPath()), priv);
}

TEST_F(KeyPairTest, RegeneratesWhenPublicKeyIsGarbage) {
  const std::string first = Ensure();
  ASSERT_TRUE(WriteFile(dir_.PublicKeyPath(), "garbage\n").ok());
  const std::string second = Ensure();
  EXPECT_NE(second, first);
  EXPECT_NE(ParsePublic(second), nullptr);
  EXPECT_EQ(ReadFileOrEmpty(dir_.PublicKeyPath()), second);
  Pkey priv = ParsePrivate(ReadFileOrEmpty(dir_.PrivateKeyPath()));
  ASSERT_NE(priv, nullptr);
  EXPECT_EQ(EVP_PKEY_eq(ParsePublic(second).get(), priv.get()), 1);
}

TEST_F(KeyPairTest, RegeneratesWhenPrivateKeyIsMissingOrGarbage) {
  const std::string first = Ensure();
  ASSERT_EQ(unlink(dir_.PrivateKeyPath().c_str()), 0);
  const std::string second = Ensure();
  EXPECT_NE(second, first);
  ASSERT_TRUE(WriteFile(dir_.PrivateKeyPath(),
                        "-----BEGIN PRIVATE KEY-----\n"
                        "AAAA\n")
                  .ok());
  const std::string third = Ensure();
  EXPECT_NE(third, second);
  EXPECT_EQ(
      EVP_PKEY_eq(ParsePublic(third).get(),
                  ParsePrivate(ReadFileOrEmpty(dir_.PrivateKeyPath())).get()),
      1);
}

TEST_F(KeyPairTest, DecryptsAnOaepSha1Challenge) {
  Pkey pub = ParsePublic(Ensure());
  ASSERT_NE(pub, nullptr);
  const std::string challenge = RandomBytes(32);
  const std::string ciphertext = Encrypt(pub.get(), challenge, EVP_sha1());
  ASSERT_EQ(ciphertext.size(), 256u);
  absl::StatusOr<std::string> plain =
      DecryptOaepSha1(ReadFileOrEmpty(dir_.PrivateKeyPath()), ciphertext);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, challenge);
}

TEST_F(KeyPairTest, OaepWithAnotherHashDoesNotDecrypt) {
  Pkey pub = ParsePublic(Ensure());
  const std::string ciphertext =
      Encrypt(pub.get(), RandomBytes(32), EVP_sha256());
  absl::StatusOr<std::string> plain =
      DecryptOaepSha1(ReadFileOrEmpty(dir_.PrivateKeyPath()), ciphertext);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(ReasonOf(plain.status()), "CHALLENGE_INVALID");
}

TEST_F(KeyPairTest, WrongSizeChallengeIsInvalid) {
  Ensure();
  const std::string priv = ReadFileOrEmpty(dir_.PrivateKeyPath());
  for (size_t size : {size_t{0}, size_t{255}, size_t{257}, size_t{512}}) {
    SCOPED_TRACE(size);
    absl::StatusOr<std::string> plain =
        DecryptOaepSha1(priv, RandomBytes(size));
    ASSERT_FALSE(plain.ok());
    EXPECT_EQ(plain.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(plain.status()), "CHALLENGE_INVALID");
  }
  // Right size, random bytes: does not decrypt (OAEP padding check).
  absl::StatusOr<std::string> plain = DecryptOaepSha1(priv, RandomBytes(256));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(ReasonOf(plain.status()), "CHALLENGE_INVALID");
}

TEST_F(KeyPairTest, GarbagePrivateKeyIsKeyInvalid) {
  absl::StatusOr<std::string> plain =
      DecryptOaepSha1("not a key", RandomBytes(256));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(ReasonOf(plain.status()), "KEY_INVALID");
}

}  // namespace
}  // namespace cloudlink::claim

#include "server/common/openssl_ptr.h"

#include <string>

#include "gtest/gtest.h"

namespace cloudlink {
namespace {

TEST(OpenSslPtrTest, MemoryBioReadsTheBytes) {
  const std::string bytes = "hello\nworld";
  BioPtr bio = MemoryBio(bytes);
  ASSERT_NE(bio, nullptr);
  char buffer[32] = {0};
  EXPECT_EQ(BIO_read(bio.get(), buffer, sizeof(buffer)),
            static_cast<int>(bytes.size()));
  EXPECT_EQ(std::string(buffer), bytes);
}

TEST(OpenSslPtrTest, BioTextIsWhatWasWritten) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_NE(bio, nullptr);
  EXPECT_EQ(BioText(bio.get()), "");
  BIO_puts(bio.get(), "one ");
  BIO_puts(bio.get(), "two");
  EXPECT_EQ(BioText(bio.get()), "one two");
}

TEST(OpenSslPtrTest, OwnsEachKind) {
  X509Ptr cert(X509_new());
  PkeyPtr key(EVP_PKEY_new());
  X509CrlPtr crl(X509_CRL_new());
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EXPECT_NE(cert, nullptr);
  EXPECT_NE(key, nullptr);
  EXPECT_NE(crl, nullptr);
  EXPECT_NE(ctx, nullptr);
}

}  // namespace
}  // namespace cloudlink

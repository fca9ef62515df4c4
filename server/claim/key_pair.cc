#include "server/claim/key_pair.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "server/common/error.h"
#include "server/common/log.h"
#include "server/common/openssl_ptr.h"
#include "server/common/status_macros.h"

namespace cloudlink::claim {
namespace {

using Pkey = PkeyPtr;

bool ParsesAsPublicKey(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  return key != nullptr;
}

Pkey ParsePrivateKey(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  return Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

absl::Status KeyError(absl::string_view what) {
  return Error(absl::StatusCode::kInternal, reason::kKeyGenerationFailed,
               absl::StrCat(what, " failed in OpenSSL"));
}

// The key pair could not be stored (disk full, read-only lib directory):
// retryable, as the operator may free space.
absl::Status KeyWriteError(const absl::Status& why) {
  return Error(absl::StatusCode::kUnavailable, reason::kStateWriteFailed,
               absl::StrCat("cannot store the key pair (", why.message(),
                            "); free space or fix the lib directory"));
}

}  // namespace

absl::StatusOr<std::string> EnsureKeyPair(state::StateDir& dir,
                                          state::FileSystem* fs) {
  absl::StatusOr<std::string> pub = fs->ReadFile(dir.PublicKeyPath());
  absl::StatusOr<std::string> priv = fs->ReadFile(dir.PrivateKeyPath());
  if (pub.ok() && priv.ok() && ParsesAsPublicKey(*pub) &&
      ParsePrivateKey(*priv) != nullptr) {
    return *pub;
  }
  if (absl::Status made = dir.EnsureCloudDir(); !made.ok()) {
    return KeyWriteError(made);
  }

  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), 2048) != 1) {
    return KeyError("RSA key generation set-up");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    return KeyError("RSA key generation");
  Pkey key(raw);

  BioPtr priv_bio(BIO_new(BIO_s_mem()));
  BioPtr pub_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(priv_bio.get(), key.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub_bio.get(), key.get()) != 1) {
    return KeyError("PEM encoding");
  }
  const std::string public_pem = BioText(pub_bio.get());
  absl::Status written =
      fs->WriteFileAtomic(dir.PrivateKeyPath(), BioText(priv_bio.get()), 0600);
  if (written.ok()) {
    written = fs->WriteFileAtomic(dir.PublicKeyPath(), public_pem, 0644);
  }
  if (!written.ok()) return KeyWriteError(written);
  LogInfo(absl::StrCat("CLAIM: generated a new RSA 2048 key pair in ",
                       dir.CloudDir()));
  return public_pem;
}

absl::StatusOr<std::string> DecryptOaepSha1(const std::string& private_pem,
                                            const std::string& ciphertext) {
  Pkey key = ParsePrivateKey(private_pem);
  if (key == nullptr) {
    return Error(
        absl::StatusCode::kFailedPrecondition, reason::kKeyInvalid,
        "the node's private key does not parse; Reclaim to make a new one");
  }
  if (ciphertext.size() != static_cast<size_t>(EVP_PKEY_size(key.get()))) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kChallengeInvalid,
                 absl::StrCat("the challenge is ", ciphertext.size(),
                              " bytes; expected ", EVP_PKEY_size(key.get())));
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()) != 1) {
    return absl::InternalError("RSA-OAEP set-up failed in OpenSSL");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(ciphertext.data());
  size_t out_len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &out_len, in, ciphertext.size()) !=
      1) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kChallengeInvalid,
                 "the challenge does not decrypt with the node's key");
  }
  std::string out(out_len, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                       &out_len, in, ciphertext.size()) != 1) {
    return Error(absl::StatusCode::kInvalidArgument, reason::kChallengeInvalid,
                 "the challenge does not decrypt with the node's key");
  }
  out.resize(out_len);
  return out;
}

}  // namespace cloudlink::claim

#include "tests/tools/devcloud/node_key.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace cloudlink::devcloud_testing {

NodeKey::NodeKey() : key(EVP_RSA_gen(2048)) {}
NodeKey::~NodeKey() { EVP_PKEY_free(key); }

namespace {

// `key`'s public half as SubjectPublicKeyInfo PEM.
std::string PublicKeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

}  // namespace

std::string NodeKey::PublicPem() const { return PublicKeyPem(key); }

std::string NodeKey::Decrypt(const std::string& ciphertext) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  std::string out(ciphertext.size(), '\0');
  size_t len = out.size();
  bool ok = ctx != nullptr && EVP_PKEY_decrypt_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1 &&
            EVP_PKEY_decrypt(
                ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                reinterpret_cast<const unsigned char*>(ciphertext.data()),
                ciphertext.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return "";
  out.resize(len);
  return out;
}

std::string NewRsaPublicKeyPem() { return NodeKey().PublicPem(); }

std::string NewEcPublicKeyPem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  std::string pem = PublicKeyPem(key);
  EVP_PKEY_free(key);
  return pem;
}

}  // namespace cloudlink::devcloud_testing

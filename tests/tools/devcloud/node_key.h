#pragma once

// Keys like a node's for the dev cloud's tests: an RSA 2048 pair whose
// public half a claim registers and whose private half answers the login
// challenge, and keys the cloud must refuse.

#include <openssl/evp.h>

#include <string>

namespace cloudlink::devcloud_testing {

// An RSA 2048 key pair (what a node makes); owned EVP_PKEY.
struct NodeKey {
  NodeKey();
  ~NodeKey();
  NodeKey(const NodeKey&) = delete;
  NodeKey& operator=(const NodeKey&) = delete;
  std::string PublicPem() const;  // SubjectPublicKeyInfo PEM
  // RSA-OAEP (SHA-1, MGF1-SHA-1) decryption; "" on failure.
  std::string Decrypt(const std::string& ciphertext) const;
  EVP_PKEY* key;
};

// A fresh RSA 2048 public key as SubjectPublicKeyInfo PEM.
std::string NewRsaPublicKeyPem();

// An EC P-256 public key PEM (a key the cloud must refuse).
std::string NewEcPublicKeyPem();

}  // namespace cloudlink::devcloud_testing

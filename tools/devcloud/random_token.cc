#include "tools/devcloud/random_token.h"

#include <openssl/rand.h>

#include <cstdlib>

namespace cloudlink::devcloud {

std::string RandomBytes(size_t length) {
  std::string out(length, '\0');
  if (length > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                               static_cast<int>(length)) != 1) {
    std::abort();  // no CSPRNG, no safe secret
  }
  return out;
}

std::string RandomToken(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string bytes = RandomBytes(length);
  std::string out;
  out.reserve(length);
  for (unsigned char b : bytes) out.push_back(kAlphabet[b & 63]);
  return out;
}

}  // namespace cloudlink::devcloud

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
// Public-key signature verification (OpenPGP provider signatures): RSA PKCS#1 v1.5 padding constants.
#include <openssl/rsa.h>
// SHA-256 on a caller-owned context (a plain struct): no allocation and no provider lookup per
// digest. The EVP interfaces allocate a context and the provider's state for every digest, which
// was most of the instructions of hashing a token or signing a download link (callgrind, issue 17);
// streams of data keep using EVP (`SHA256.Hasher`). OpenSSL 3 marks SHA256_Init/Update/Final
// deprecated (in favour of EVP) but ships them in libcrypto 3; the wrappers keep that warning here.
#include <openssl/sha.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline void tfreg_sha256_init(SHA256_CTX *c) { SHA256_Init(c); }
static inline void tfreg_sha256_update(SHA256_CTX *c, const void *data, size_t n) { SHA256_Update(c, data, n); }
static inline void tfreg_sha256_final(SHA256_CTX *c, unsigned char *md) { SHA256_Final(md, c); }
#pragma GCC diagnostic pop

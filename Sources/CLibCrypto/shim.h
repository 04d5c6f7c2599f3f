#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
// Public-key signature verification (OpenPGP provider signatures): RSA PKCS#1 v1.5 padding constants.
#include <openssl/rsa.h>

// OpenSSL libcrypto (Debian: libssl-dev): SHA-256 of corpus keys and splits.
#include <openssl/evp.h>
#include <openssl/sha.h>

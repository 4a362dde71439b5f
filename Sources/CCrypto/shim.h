// OpenSSL (libcrypto, libssl): net-snmp already maps libcrypto into the agent, so SHA-256,
// HMAC and TLS cost little extra memory.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// Macros Swift does not import.
static inline long closet_ssl_set_sni(SSL *ssl, const char *host) { return SSL_set_tlsext_host_name(ssl, host); }

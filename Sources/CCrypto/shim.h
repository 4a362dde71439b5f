// OpenSSL's libcrypto: net-snmp already maps it into the agent, so SHA-256 (with the CPU's
// SHA extensions) costs no extra memory.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#ifndef CLOSET_CNETSNMP_SHIM_H
#define CLOSET_CNETSNMP_SHIM_H
// net-snmp-config.h defines _GNU_SOURCE, which changes fd_set: include the libc headers
// first so every module sees the same definitions (see shared/NOTES.md).
#include <sys/types.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

// Composite macros Swift does not import.
static const int closet_snmp_msg_get = SNMP_MSG_GET;
static const int closet_snmp_msg_getbulk = SNMP_MSG_GETBULK;
static const int closet_snmp_msg_getnext = SNMP_MSG_GETNEXT;
static const long closet_snmp_version_1 = SNMP_VERSION_1;
static const long closet_snmp_version_2c = SNMP_VERSION_2c;
static const long closet_snmp_version_3 = SNMP_VERSION_3;
static const int closet_sec_noauth = SNMP_SEC_LEVEL_NOAUTH;
static const int closet_sec_authnopriv = SNMP_SEC_LEVEL_AUTHNOPRIV;
static const int closet_sec_authpriv = SNMP_SEC_LEVEL_AUTHPRIV;
static const int closet_stat_success = STAT_SUCCESS;
static const int closet_stat_timeout = STAT_TIMEOUT;

static const unsigned char closet_asn_integer = ASN_INTEGER;
static const unsigned char closet_asn_octet_str = ASN_OCTET_STR;
static const unsigned char closet_asn_oid = ASN_OBJECT_ID;
static const unsigned char closet_asn_null = ASN_NULL;
static const unsigned char closet_asn_ipaddress = ASN_IPADDRESS;
static const unsigned char closet_asn_counter = ASN_COUNTER;
static const unsigned char closet_asn_gauge = ASN_GAUGE;
static const unsigned char closet_asn_timeticks = ASN_TIMETICKS;
static const unsigned char closet_asn_counter64 = ASN_COUNTER64;
static const unsigned char closet_asn_nosuchobject = SNMP_NOSUCHOBJECT;
static const unsigned char closet_asn_nosuchinstance = SNMP_NOSUCHINSTANCE;
static const unsigned char closet_asn_endofmibview = SNMP_ENDOFMIBVIEW;

// USM protocol OIDs are extern arrays of unknown size to Swift: hand out pointer and length.
static inline const oid *closet_usm_md5(void) { return usmHMACMD5AuthProtocol; }
static inline const oid *closet_usm_sha1(void) { return usmHMACSHA1AuthProtocol; }
static inline const oid *closet_usm_sha256(void) { return usmHMAC192SHA256AuthProtocol; }
static inline const oid *closet_usm_des(void) { return usmDESPrivProtocol; }
static inline const oid *closet_usm_aes(void) { return usmAESPrivProtocol; }
static const size_t closet_usm_proto_len = 10;

// GETBULK's non-repeaters and max-repetitions alias the PDU's errstat and errindex.
static inline void closet_set_bulk(netsnmp_pdu *pdu, long nonRepeaters, long maxRepetitions) {
    pdu->non_repeaters = nonRepeaters;
    pdu->max_repetitions = maxRepetitions;
}

// Fills a session's USM fields. auth: 0 MD5, 1 SHA, 2 SHA-256; priv: 0 DES, 1 AES.
// Returns 0, or -1 when a passphrase cannot be turned into a key (too short: min 8 chars).
static inline int closet_session_v3(netsnmp_session *s, const char *user, int level,
                                    int auth, const char *authPass, int priv, const char *privPass) {
    s->version = SNMP_VERSION_3;
    s->securityName = strdup(user);
    s->securityNameLen = strlen(user);
    s->securityLevel = level;
    if (level == SNMP_SEC_LEVEL_NOAUTH) return 0;
    const oid *authProto = auth == 0 ? usmHMACMD5AuthProtocol : auth == 1 ? usmHMACSHA1AuthProtocol : usmHMAC192SHA256AuthProtocol;
    s->securityAuthProto = snmp_duplicate_objid(authProto, USM_AUTH_PROTO_SHA_LEN);
    s->securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
    s->securityAuthKeyLen = USM_AUTH_KU_LEN;
    if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (const u_char *)authPass, strlen(authPass),
                    s->securityAuthKey, &s->securityAuthKeyLen) != SNMPERR_SUCCESS) return -1;
    if (level != SNMP_SEC_LEVEL_AUTHPRIV) return 0;
    const oid *privProto = priv == 0 ? usmDESPrivProtocol : usmAESPrivProtocol;
    s->securityPrivProto = snmp_duplicate_objid(privProto, USM_PRIV_PROTO_AES_LEN);
    s->securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
    s->securityPrivKeyLen = USM_PRIV_KU_LEN;
    if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (const u_char *)privPass, strlen(privPass),
                    s->securityPrivKey, &s->securityPrivKeyLen) != SNMPERR_SUCCESS) return -1;
    return 0;
}
#endif

#ifndef CLOSET_CMODBUS_SHIM_H
#define CLOSET_CMODBUS_SHIM_H
#include <sys/types.h>
#include <sys/time.h>
#include <errno.h>
#include <modbus.h>

// Composite macros Swift does not import.
static const int closet_modbus_enobase = MODBUS_ENOBASE;
static const int closet_modbus_badcrc = EMBBADCRC;
static const int closet_modbus_baddata = EMBBADDATA;
static const int closet_modbus_badexc = EMBBADEXC;
static const int closet_modbus_unkexc = EMBUNKEXC;
static const int closet_modbus_mdata = EMBMDATA;
static const int closet_modbus_badslave = EMBBADSLAVE;
static const int closet_modbus_rtu_rs485 = MODBUS_RTU_RS485;

static inline int closet_errno(void) { return errno; }
static inline void closet_set_errno(int value) { errno = value; }
#endif

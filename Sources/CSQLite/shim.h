#include <sqlite3.h>
// SQLITE_TRANSIENT is a cast macro Swift does not import.
static inline void (*closet_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }

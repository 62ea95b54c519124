/* trap.h — `shouye trap`, the snmptrapd traphandle bridge (see trap.c). */
#ifndef SHOUYE_TRAP_H
#define SHOUYE_TRAP_H

#include "base/base.h"

#include <stdio.h>

typedef struct trap_info {
    char host[128], address[64], trap_oid[256], object[128];
} trap_info;

/* Parse snmptrapd's traphandle input; ERR_INVALID when it holds no trap. */
err trap_parse(FILE *in, trap_info *t);
/* The TMF642 alarm document for a trap. */
json_t *trap_alarm(const trap_info *t, const char *now_iso);
/* Read a trap on stdin, post it as an alarm; the process exit code. */
int trap_main(void);

#endif

/* syslog: OTP's daemon mode calls syslog(LOG_ERR, ...) without openlog, so its lines carry the
 * default facility (LOG_USER) and no PID: "<11>... epmd: epmd: <msg>". We send the same, so log
 * filters written for OTP keep matching. openlog needs a static ident, awkward from C#. */
#include "fastepmd_shim.h"
#include <syslog.h>
#include <string.h>

static char s_ident[32];

int32_t fe_syslog_open(const char *ident)
{
    strncpy(s_ident, ident, sizeof(s_ident) - 1);
    openlog(s_ident, 0, LOG_USER);
    return 0;
}

int32_t fe_syslog_error(const char *message)
{
    syslog(LOG_ERR, "%s", message);
    return 0;
}

/* syslog: OTP's daemon mode logs errors with LOG_ERR; openlog/syslog are
 * variadic or need a static ident, which is awkward from C#. */
#include "fastepmd_shim.h"
#include <syslog.h>
#include <string.h>

static char s_ident[32];

int32_t fe_syslog_open(const char *ident)
{
    strncpy(s_ident, ident, sizeof(s_ident) - 1);
    openlog(s_ident, LOG_PID, LOG_DAEMON);
    return 0;
}

int32_t fe_syslog_error(const char *message)
{
    syslog(LOG_ERR, "%s", message);
    return 0;
}

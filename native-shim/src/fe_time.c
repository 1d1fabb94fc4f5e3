/* The log's timestamp as OTP writes it: ctime() of now, in the host's time zone. In C because
 * libc already knows the zone; the managed TimeZoneInfo would add ~60 kB of code to the binary,
 * all of it resident, for one line of debug output. */
#include "fastepmd_shim.h"
#include <errno.h>
#include <string.h>
#include <time.h>

int32_t fe_ctime_now(char *text, int32_t capacity)
{
    char buffer[64];
    time_t now = time(NULL);
    if (ctime_r(&now, buffer) == NULL) return -EOVERFLOW;
    size_t n = strcspn(buffer, "\n");
    if (capacity < 0 || n > (size_t)capacity) return -ERANGE;
    memcpy(text, buffer, n);
    return (int32_t)n;
}

/* The log's timestamps: OTP's ctime() of now in the host's time zone, and UTC in ISO 8601 for
 * -log_format json. In C because libc already knows the zone and the calendar; the managed
 * TimeZoneInfo and DateTime formatting would add ~60 kB of code to the binary, all of it resident,
 * for one field of a log line. */
#include "fastepmd_shim.h"
#include <errno.h>
#include <stdio.h>
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

int32_t fe_utc_now_iso(char *text, int32_t capacity)
{
    struct timespec now;
    struct tm utc;
    char buffer[64];
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return -errno;
    if (gmtime_r(&now.tv_sec, &utc) == NULL) return -EOVERFLOW;
    size_t n = strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    /* Seven fraction digits, as .NET's round-trip format writes them. */
    int more = snprintf(buffer + n, sizeof buffer - n, ".%07ldZ", now.tv_nsec / 100);
    if (n == 0 || more <= 0 || n + (size_t)more >= sizeof buffer) return -EOVERFLOW;
    n += (size_t)more;
    if (capacity < 0 || n > (size_t)capacity) return -ERANGE;
    memcpy(text, buffer, n);
    return (int32_t)n;
}

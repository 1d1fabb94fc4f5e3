/* RLIMIT_NOFILE: sizes the connection table. Tmds.LibC binds no rlimit calls. */
#include "fastepmd_shim.h"
#include <errno.h>
#include <sys/resource.h>

int32_t fe_get_nofile_limit(int64_t *soft, int64_t *hard)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    *soft = rl.rlim_cur == RLIM_INFINITY ? INT64_MAX : (int64_t)rl.rlim_cur;
    *hard = rl.rlim_max == RLIM_INFINITY ? INT64_MAX : (int64_t)rl.rlim_max;
    return 0;
}

int32_t fe_set_nofile_limit(int64_t soft)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    rl.rlim_cur = (rlim_t)soft;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    return 0;
}

/* -daemon: a started .NET runtime cannot fork safely (its threads do not survive
 * fork), so the daemon re-executes itself with posix_spawn in a new session.
 * keep_fd (the readiness pipe) is the only descriptor besides 0..2 passed on.
 * envp NULL: this process's environment. */
#define _GNU_SOURCE
#include "fastepmd_shim.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char **environ;

int32_t fe_spawn_detached(const char *path, char *const argv[], char *const envp[], int32_t keep_fd, int32_t *pid)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    int rc = posix_spawnattr_init(&attr);
    if (rc != 0)
        return -rc;
    rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    if (rc == 0)
        rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) {
        posix_spawnattr_destroy(&attr);
        return -rc;
    }
    /* The child's stdio is /dev/null, as OTP's daemonize() leaves it. */
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (keep_fd >= 0) {
        /* dup2 onto itself clears FD_CLOEXEC in the child only. */
        posix_spawn_file_actions_adddup2(&actions, keep_fd, keep_fd);
    }
    pid_t child = 0;
    rc = posix_spawn(&child, path, &actions, &attr, argv, envp != NULL ? envp : environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return -rc;
    *pid = (int32_t)child;
    return 0;
}

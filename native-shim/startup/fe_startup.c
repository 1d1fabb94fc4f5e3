/* Process start-up of the NativeAOT binary, before the .NET runtime exists. Linked as an object
 * (not from the archive, so nothing has to reference it), and only into that binary: a JIT
 * build or a test host never runs it.
 * - One malloc arena: glibc reserves 64 MiB of address space for each thread's arena, which
 *   alone would double an idle daemon's VmSize. One thread serves, so one arena costs nothing.
 * - Threads created with default attributes (the runtime's signal-handling thread) get 256 KiB
 *   stacks instead of RLIMIT_STACK's 8 MiB; the runtime's own threads are sized by
 *   System.Threading.DefaultStackSize in the csproj.
 * - A runtime that cannot start (its GC reservation does not fit under `ulimit -v`) returns -1
 *   from main without a word. An on_exit handler sees that managed code never started and says
 *   so in one line, then exits 1 like any other bad start-up. */
#define _GNU_SOURCE
#include "fastepmd_shim.h"
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

extern volatile int32_t fe_managed_started;

static void fe_report_failed_start(int status, void *arg)
{
    (void)arg;
    if (fe_managed_started || status == 0)
        return;
    char line[160];
    struct rlimit rl;
    int n;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        n = snprintf(line, sizeof line,
                     "fastepmd: cannot start: not enough memory for the runtime (address space limit %llu kB)\n",
                     (unsigned long long)(rl.rlim_cur / 1024));
    else
        n = snprintf(line, sizeof line, "fastepmd: cannot start: not enough memory for the runtime\n");
    if (n > 0 && write(2, line, (size_t)n) < 0)
        n = 0;
    _exit(1);
}

__attribute__((constructor)) static void fe_startup(void)
{
    mallopt(M_ARENA_MAX, 1);
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_setstacksize(&attr, 256 * 1024) == 0)
            pthread_setattr_default_np(&attr);
        pthread_attr_destroy(&attr);
    }
    on_exit(fe_report_failed_start, NULL);
}

/* ABI checks: the C# side refuses to run against a shim of another version. */
#include "fastepmd_shim.h"
#include <stddef.h>

_Static_assert(sizeof(fe_poll_event) == 16, "fe_poll_event is 16 bytes");
_Static_assert(offsetof(fe_poll_event, events) == 8, "events at offset 8");

int32_t fe_abi_version(void) { return FE_ABI_VERSION; }
int32_t fe_sizeof_poll_event(void) { return (int32_t)sizeof(fe_poll_event); }

/* Set by managed Main's first statement; the NativeAOT start-up object (startup/fe_startup.c)
 * reads it at exit to tell a runtime that never started from a normal exit. */
volatile int32_t fe_managed_started;

int32_t fe_note_managed_start(void)
{
    fe_managed_started = 1;
    return 0;
}

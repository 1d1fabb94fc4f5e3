/* ABI checks: the C# side refuses to run against a shim of another version, or on a platform where
 * a struct it shares with the C library or this shim is laid out otherwise than it assumes
 * (struct epoll_event is packed, 12 bytes, on x86-64 and 16 bytes on arm64; struct stat differs too). */
#define _GNU_SOURCE /* struct ucred */
#include "fastepmd_shim.h"
#include <errno.h>
#include <stddef.h>
#ifdef __linux__
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#endif

_Static_assert(sizeof(fe_poll_event) == 16, "fe_poll_event is 16 bytes");
_Static_assert(offsetof(fe_poll_event, events) == 8, "events at offset 8");

int32_t fe_abi_version(void) { return FE_ABI_VERSION; }

typedef struct layout_row {
    const char *name;
    int32_t value;
} layout_row;

#define SIZE(type, name) { name, (int32_t)sizeof(type) }
#define FIELD(type, name, field) { name "." #field, (int32_t)offsetof(type, field) }

/* The same rows in the same order as Interop/StructLayouts.cs: only what the C# side reads or writes. */
static const layout_row rows[] = {
    SIZE(fe_poll_event, "fe_poll_event"),
    FIELD(fe_poll_event, "fe_poll_event", token),
    FIELD(fe_poll_event, "fe_poll_event", events),
#ifdef __linux__
    SIZE(struct epoll_event, "epoll_event"),
    FIELD(struct epoll_event, "epoll_event", events),
    FIELD(struct epoll_event, "epoll_event", data),
    SIZE(struct pollfd, "pollfd"),
    FIELD(struct pollfd, "pollfd", fd),
    FIELD(struct pollfd, "pollfd", events),
    FIELD(struct pollfd, "pollfd", revents),
    SIZE(struct sockaddr_in, "sockaddr_in"),
    FIELD(struct sockaddr_in, "sockaddr_in", sin_family),
    FIELD(struct sockaddr_in, "sockaddr_in", sin_port),
    FIELD(struct sockaddr_in, "sockaddr_in", sin_addr),
    SIZE(struct sockaddr_in6, "sockaddr_in6"),
    FIELD(struct sockaddr_in6, "sockaddr_in6", sin6_family),
    FIELD(struct sockaddr_in6, "sockaddr_in6", sin6_port),
    FIELD(struct sockaddr_in6, "sockaddr_in6", sin6_flowinfo),
    FIELD(struct sockaddr_in6, "sockaddr_in6", sin6_addr),
    FIELD(struct sockaddr_in6, "sockaddr_in6", sin6_scope_id),
    SIZE(struct sockaddr_un, "sockaddr_un"),
    FIELD(struct sockaddr_un, "sockaddr_un", sun_family),
    FIELD(struct sockaddr_un, "sockaddr_un", sun_path),
    SIZE(struct sockaddr_storage, "sockaddr_storage"),
    FIELD(struct sockaddr_storage, "sockaddr_storage", ss_family),
    SIZE(struct ucred, "ucred"),
    FIELD(struct ucred, "ucred", pid),
    FIELD(struct ucred, "ucred", uid),
    FIELD(struct ucred, "ucred", gid),
    SIZE(struct stat, "stat"),
    FIELD(struct stat, "stat", st_mode),
    FIELD(struct stat, "stat", st_size),
#endif
};

int32_t fe_struct_layout(int32_t index, const char **name)
{
    if (index < 0 || (size_t)index >= sizeof rows / sizeof rows[0]) return -EINVAL;
    *name = rows[index].name;
    return rows[index].value;
}

/* Set by managed Main's first statement; the NativeAOT start-up object (startup/fe_startup.c)
 * reads it at exit to tell a runtime that never started from a normal exit. */
volatile int32_t fe_managed_started;

int32_t fe_note_managed_start(void)
{
    fe_managed_started = 1;
    return 0;
}

/* kqueue backend for BSD and macOS. struct kevent differs between them, so it
 * stays in C and crosses to C# as fe_poll_event. Elsewhere every call is -ENOSYS. */
#include "fastepmd_shim.h"
#include <errno.h>

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

int32_t fe_kq_create(void)
{
    int kq = kqueue();
    return kq < 0 ? -errno : kq;
}

int32_t fe_kq_set(int32_t kq, int32_t fd, uint64_t token, uint32_t interest)
{
    struct kevent changes[2];
    EV_SET(&changes[0], fd, EVFILT_READ, (interest & FE_POLL_READ) ? EV_ADD | EV_ENABLE : EV_ADD | EV_DISABLE, 0, 0, (void *)(uintptr_t)token);
    EV_SET(&changes[1], fd, EVFILT_WRITE, (interest & FE_POLL_WRITE) ? EV_ADD | EV_ENABLE : EV_ADD | EV_DISABLE, 0, 0, (void *)(uintptr_t)token);
    return kevent(kq, changes, 2, NULL, 0, NULL) < 0 ? -errno : 0;
}

int32_t fe_kq_remove(int32_t kq, int32_t fd)
{
    struct kevent changes[2];
    EV_SET(&changes[0], fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
    EV_SET(&changes[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    /* ENOENT: the filter was never added; closing the fd removes it anyway. */
    if (kevent(kq, changes, 2, NULL, 0, NULL) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

int32_t fe_kq_wait(int32_t kq, fe_poll_event *events, int32_t capacity, int32_t timeout_ms)
{
    struct kevent out[256];
    struct timespec ts, *tsp = NULL;
    if (capacity > 256)
        capacity = 256;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tsp = &ts;
    }
    int n = kevent(kq, NULL, 0, out, capacity, tsp);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        uint32_t ev = 0;
        if (out[i].filter == EVFILT_READ) ev |= FE_POLL_READ;
        if (out[i].filter == EVFILT_WRITE) ev |= FE_POLL_WRITE;
        if (out[i].flags & EV_EOF) ev |= FE_POLL_HANGUP;
        if (out[i].flags & EV_ERROR) ev |= FE_POLL_ERROR;
        events[i].token = (uint64_t)(uintptr_t)out[i].udata;
        events[i].events = ev;
        events[i].reserved = 0;
    }
    return n;
}
#else
int32_t fe_kq_create(void) { return -ENOSYS; }
int32_t fe_kq_set(int32_t kq, int32_t fd, uint64_t token, uint32_t interest)
{
    (void)kq; (void)fd; (void)token; (void)interest;
    return -ENOSYS;
}
int32_t fe_kq_remove(int32_t kq, int32_t fd)
{
    (void)kq; (void)fd;
    return -ENOSYS;
}
int32_t fe_kq_wait(int32_t kq, fe_poll_event *events, int32_t capacity, int32_t timeout_ms)
{
    (void)kq; (void)events; (void)capacity; (void)timeout_ms;
    return -ENOSYS;
}
#endif

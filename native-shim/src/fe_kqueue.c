/* kqueue backend for BSD and macOS. struct kevent differs between them, so it
 * stays in C and crosses to C# as fe_poll_event. Elsewhere every call is -ENOSYS, except in the
 * test build against libkqueue on Linux (FE_KQUEUE_OVER_LIBKQUEUE: Makefile target kqueue-test). */
#include "fastepmd_shim.h"
#include <errno.h>

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__) \
    || defined(FE_KQUEUE_OVER_LIBKQUEUE)
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

int32_t fe_kq_create(void)
{
    int kq = kqueue();
    return kq < 0 ? -errno : kq;
}

/* One filter change; a delete of a filter that is not there (ENOENT) is success. One change per
 * call: with no event list, kevent stops at the first failing change and applies none after it. */
static int32_t change(int32_t kq, int32_t fd, int16_t filter, uint16_t flags, uint64_t token)
{
    struct kevent ev;
    EV_SET(&ev, fd, filter, flags, 0, 0, (void *)(uintptr_t)token);
    if (kevent(kq, &ev, 1, NULL, 0, NULL) < 0 && !(errno == ENOENT && (flags & EV_DELETE)))
        return -errno;
    return 0;
}

/* A descriptor waits for reading or for writing, never both (FE_POLL_READ, FE_POLL_WRITE or 0), so
 * it holds at most one filter: the other one is deleted, not disabled, and 0 deletes both. Toggling EV_ENABLE/EV_DISABLE
 * on two filters of one socket is where libkqueue (the kqueue API over epoll, which the tests run
 * this file on under Linux) fails: EEXIST and ENOENT from its shared epoll registration. */
int32_t fe_kq_set(int32_t kq, int32_t fd, uint64_t token, uint32_t interest)
{
    int32_t rc = 0;
    if (!(interest & FE_POLL_WRITE) && (rc = change(kq, fd, EVFILT_WRITE, EV_DELETE, 0)) < 0)
        return rc;
    if (!(interest & FE_POLL_READ) && (rc = change(kq, fd, EVFILT_READ, EV_DELETE, 0)) < 0)
        return rc;
    if (interest & FE_POLL_READ)
        rc = change(kq, fd, EVFILT_READ, EV_ADD | EV_ENABLE, token);
    else if (interest & FE_POLL_WRITE)
        rc = change(kq, fd, EVFILT_WRITE, EV_ADD | EV_ENABLE, token);
    return rc;
}

int32_t fe_kq_remove(int32_t kq, int32_t fd)
{
    int32_t rc = change(kq, fd, EVFILT_READ, EV_DELETE, 0);
    int32_t rc_write = change(kq, fd, EVFILT_WRITE, EV_DELETE, 0);
    return rc < 0 ? rc : rc_write;
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

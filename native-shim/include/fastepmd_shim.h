/* FastEpmd native shim: the whole ABI between C# and C.
 * Only what Tmds.LibC does not bind. Every function returns >= 0 on success
 * and -errno on failure; on a platform without the facility it returns -ENOSYS. */
#ifndef FASTEPMD_SHIM_H
#define FASTEPMD_SHIM_H

#include <stdint.h>

#define FE_ABI_VERSION 6

#if defined(__GNUC__)
#define FE_EXPORT __attribute__((visibility("default")))
#else
#define FE_EXPORT
#endif

/* One readiness event, the same for every backend (epoll does not need it; kqueue does). */
typedef struct fe_poll_event {
    uint64_t token;
    uint32_t events; /* FE_POLL_* bits */
    uint32_t reserved;
} fe_poll_event;

#define FE_POLL_READ   1u
#define FE_POLL_WRITE  2u
#define FE_POLL_HANGUP 4u
#define FE_POLL_ERROR  8u

FE_EXPORT int32_t fe_abi_version(void);
/* Row index of the layout table: the size of a struct shared with C# ("epoll_event") or the offset of
 * one of its fields ("epoll_event.data"), as this platform's C compiler lays it out; *name is the
 * row's static name. -EINVAL past the last row. Linux rows cover the libc structs Tmds.LibC maps. */
FE_EXPORT int32_t fe_struct_layout(int32_t index, const char **name);
/* Managed Main has started (startup/fe_startup.c reports a runtime that never got there). */
FE_EXPORT int32_t fe_note_managed_start(void);

/* fe_limits.c */
FE_EXPORT int32_t fe_get_nofile_limit(int64_t *soft, int64_t *hard);
FE_EXPORT int32_t fe_set_nofile_limit(int64_t soft);

/* fe_kqueue.c: kqueue/kevent as fe_poll_event (BSD/macOS); -ENOSYS elsewhere. */
FE_EXPORT int32_t fe_kq_create(void);
FE_EXPORT int32_t fe_kq_set(int32_t kq, int32_t fd, uint64_t token, uint32_t interest);
FE_EXPORT int32_t fe_kq_remove(int32_t kq, int32_t fd);
FE_EXPORT int32_t fe_kq_wait(int32_t kq, fe_poll_event *events, int32_t capacity, int32_t timeout_ms);

/* fe_inet.c: address text <-> bytes as inet_pton/inet_ntop. pton returns 6 or 4 (the family's
 * size class: 16 or 4 bytes written to address), or -EINVAL. */
FE_EXPORT int32_t fe_inet_pton(const char *text, uint8_t *address);
FE_EXPORT int32_t fe_inet_ntop(int32_t is_ipv6, const uint8_t *address, char *text, int32_t capacity);
/* A connected socket's peer as text, "1.2.3.4:5" or "[::1]:5" (no NUL): the length, or -errno
 * (-ENOTCONN for a listener or a closed peer, -EAFNOSUPPORT for a Unix socket). */
FE_EXPORT int32_t fe_peer_text(int32_t fd, char *text, int32_t capacity);

/* fe_spawn.c: start this program again in a new session (for -daemon). */
FE_EXPORT int32_t fe_spawn_detached(const char *path, char *const argv[], char *const envp[], int32_t keep_fd, int32_t *pid);

/* fe_fdpass.c: descriptors over an AF_UNIX socket (SCM_RIGHTS; the CMSG_* macros stay in C).
 * send: one sendmsg of len bytes and nfds descriptors (at most FE_FD_PASS_MAX), to addr when
 * addrlen > 0 (a datagram to NOTIFY_SOCKET), else on a connected socket; MSG_NOSIGNAL. Returns
 * the bytes sent. recv: one recvmsg (MSG_CMSG_CLOEXEC); the descriptors received go to fds (at
 * most maxfds, any beyond are closed) and their count to *nfds; returns the bytes received, and
 * -EMSGSIZE when the data or the descriptors were cut (MSG_TRUNC/MSG_CTRUNC), after closing them. */
#define FE_FD_PASS_MAX 253
FE_EXPORT int32_t fe_fd_send(int32_t sock, const void *data, int32_t len, const int32_t *fds, int32_t nfds,
                             const void *addr, int32_t addrlen);
FE_EXPORT int32_t fe_fd_recv(int32_t sock, void *data, int32_t len, int32_t *fds, int32_t maxfds, int32_t *nfds);

/* fe_syslog.c: OTP logs to syslog in daemon mode, with LOG_ERR and ident "epmd". */
FE_EXPORT int32_t fe_syslog_open(const char *ident);
FE_EXPORT int32_t fe_syslog_error(const char *message);

/* fe_time.c: ctime() of now without the newline ("Tue Nov  4 20:41:25 2026"): the length. */
FE_EXPORT int32_t fe_ctime_now(char *text, int32_t capacity);
/* Now in UTC as ISO 8601 with seven fraction digits ("2026-12-02T01:02:03.4567890Z"): the length. */
FE_EXPORT int32_t fe_utc_now_iso(char *text, int32_t capacity);

#endif

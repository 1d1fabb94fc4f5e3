/* Descriptor passing over AF_UNIX (SCM_RIGHTS): systemd's file descriptor store (FDSTORE=1 to
 * NOTIFY_SOCKET) and a daemon handing its sockets to a new one. The cmsg layout is macro-defined,
 * so it is built here rather than in C#. */
#include "fastepmd_shim.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Room for the largest SCM_RIGHTS message, aligned as a cmsghdr. */
typedef union fe_fd_control {
    char buf[CMSG_SPACE(sizeof(int) * FE_FD_PASS_MAX)];
    struct cmsghdr align;
} fe_fd_control;

/* One data buffer in msg; the rest of msg zeroed. */
static void fe_fd_message(struct msghdr *msg, struct iovec *iov, void *data, int32_t len)
{
    memset(msg, 0, sizeof *msg);
    iov->iov_base = data;
    iov->iov_len = (size_t)len;
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
}

int32_t fe_fd_send(int32_t sock, const void *data, int32_t len, const int32_t *fds, int32_t nfds,
                   const void *addr, int32_t addrlen)
{
    fe_fd_control control;
    struct iovec iov;
    struct msghdr msg;
    if (len < 0 || nfds < 0 || nfds > FE_FD_PASS_MAX || addrlen < 0)
        return -EINVAL;
    fe_fd_message(&msg, &iov, (void *)data, len);
    if (addrlen > 0) {
        msg.msg_name = (void *)addr;
        msg.msg_namelen = (socklen_t)addrlen;
    }
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int32_t)n;
}

int32_t fe_fd_recv(int32_t sock, void *data, int32_t len, int32_t *fds, int32_t maxfds, int32_t *nfds)
{
    fe_fd_control control;
    struct iovec iov;
    struct msghdr msg;
    *nfds = 0;
    if (len < 0 || maxfds < 0)
        return -EINVAL;
    fe_fd_message(&msg, &iov, data, len);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    int32_t kept = 0;
    int cut = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int received[FE_FD_PASS_MAX];
        if (count > FE_FD_PASS_MAX)
            count = FE_FD_PASS_MAX;
        memcpy(received, CMSG_DATA(c), count * sizeof(int));
        for (size_t i = 0; i < count; i++) {
            if (!cut && kept < maxfds)
                fds[kept++] = received[i];
            else
                close(received[i]);
        }
    }
    if (cut) {
        for (int32_t i = 0; i < kept; i++)
            close(fds[i]);
        return -EMSGSIZE;
    }
    *nfds = kept;
    return (int32_t)n;
}

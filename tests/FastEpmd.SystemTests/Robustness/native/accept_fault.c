/* accept_fault ERRNO[:SECONDS] PORT_A PORT_B DAEMON [ARGS...]
 * systemd's exec step with a fault: listens on 127.0.0.1:PORT_A as fd 3 and 127.0.0.1:PORT_B as
 * fd 4 (LISTEN_FDS=2), installs a seccomp filter that makes accept/accept4 on fd 3 fail with ERRNO
 * (the connection stays queued, so the listener stays readable: a persistent error), then execs
 * the daemon, which keeps this PID. fd 4 is untouched.
 * With :SECONDS the fault clears after SECONDS: the filter hands each accept on fd 3 to a
 * supervisor process (SECCOMP_RET_USER_NOTIF), which fails it with ERRNO until then and lets it
 * run afterwards. The supervisor stops when the daemon is gone, or after 120 s. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_fd(int sock, int fd)
{
    char byte = 0;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(sock, &msg, 0) != 1) {
        perror("accept_fault: sendmsg");
        exit(2);
    }
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    if (recvmsg(sock, &msg, 0) != 1)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
    return fd;
}

/* Answers the daemon's accepts on fd 3: ERRNO until SECONDS have passed, then the real call. */
static void supervise(int notify_fd, int err, double seconds)
{
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
        _exit(2);
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
    double start = now_s();
    while (now_s() - start < 120) {
        struct pollfd p = { .fd = notify_fd, .events = POLLIN };
        if (poll(&p, 1, 1000) < 0 && errno != EINTR)
            break;
        if (p.revents & (POLLHUP | POLLERR))
            break; /* the daemon is gone */
        if (!(p.revents & POLLIN))
            continue;
        memset(req, 0, sizes.seccomp_notif);
        if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
            continue;
        memset(resp, 0, sizes.seccomp_notif_resp);
        resp->id = req->id;
        if (now_s() - start < seconds)
            resp->error = -err;
        else
            resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp); /* ENOENT: the call was interrupted */
    }
    _exit(0);
}

static int listen_on(int port, int as_fd)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0) {
        perror("accept_fault: listen");
        exit(2);
    }
    if (fd != as_fd) {
        dup2(fd, as_fd);
        close(fd);
    }
    return as_fd;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: accept_fault ERRNO PORT_A PORT_B DAEMON [ARGS...]\n");
        return 2;
    }
    unsigned err = (unsigned)atoi(argv[1]);
    const char *colon = strchr(argv[1], ':');
    double clears_after = colon ? atof(colon + 1) : -1;
    /* Keep 3 and 4 free for the listeners. */
    listen_on(atoi(argv[2]), 3);
    listen_on(atoi(argv[3]), 4);

    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_accept4, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_accept, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, clears_after >= 0 ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("accept_fault: no_new_privs");
        return 2;
    }
    if (clears_after < 0) {
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
            perror("accept_fault: seccomp");
            return 2;
        }
    } else {
        /* The supervisor is forked before the filter exists, so its own calls are not filtered. */
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
            perror("accept_fault: socketpair");
            return 2;
        }
        pid_t supervisor = fork();
        if (supervisor < 0) {
            perror("accept_fault: fork");
            return 2;
        }
        if (supervisor == 0) {
            close(sp[0]);
            close(3);
            close(4);
            int notify_fd = recv_fd(sp[1]);
            if (notify_fd < 0)
                _exit(2);
            supervise(notify_fd, (int)err, clears_after);
        }
        close(sp[1]);
        int notify_fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
        if (notify_fd < 0) {
            perror("accept_fault: seccomp listener");
            return 2;
        }
        send_fd(sp[0], notify_fd);
        close(notify_fd);
        close(sp[0]);
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%d", getpid());
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_PID", pid, 1);
    execv(argv[4], argv + 4);
    perror("accept_fault: execv");
    return 2;
}

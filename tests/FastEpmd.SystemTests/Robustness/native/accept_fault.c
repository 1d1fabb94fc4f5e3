/* accept_fault ERRNO PORT_A PORT_B DAEMON [ARGS...]
 * systemd's exec step with a fault: listens on 127.0.0.1:PORT_A as fd 3 and 127.0.0.1:PORT_B as
 * fd 4 (LISTEN_FDS=2), installs a seccomp filter that makes accept/accept4 on fd 3 fail with ERRNO
 * (the connection stays queued, so the listener stays readable: a persistent error), then execs
 * the daemon, which keeps this PID. fd 4 is untouched. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        perror("accept_fault: seccomp");
        return 2;
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%d", getpid());
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_PID", pid, 1);
    execv(argv[4], argv + 4);
    perror("accept_fault: execv");
    return 2;
}

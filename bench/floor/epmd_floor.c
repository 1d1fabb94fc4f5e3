/*
 * epmd_floor: the kernel's floor for the load harness. A bare epoll server with no logic beyond
 * what the byte checks need, and OTP's TCP exchange: per one-shot request accept4, recv, send,
 * close; per registration accept4, recv, send, epoll_ctl, then close when the node goes. Nothing a
 * real epmd needs (limits, timeouts, logging, validation) is here. Whatever this costs per request,
 * no epmd with the same exchange can cost less, so a target below floor/OTP is out of reach.
 *
 * Serves 127.0.0.1 only; ALIVE2, PORT_PLEASE2 and NAMES, with up to FLOOR_NODES registrations.
 * Flags: -port N; -defer_accept N sets TCP_DEFER_ACCEPT (to price it apart from everything else);
 * others ignored. Build: cc -O2 -o epmd_floor epmd_floor.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOR_NODES 2048
#define BUF 4096

struct node {
    int fd;
    unsigned short name_len;
    unsigned char port2_resp[14 + 256]; /* 'w', 0, port, type, proto, hi, lo, nlen, name, elen(0) */
    unsigned short resp_len;
    char line[300];
    int line_len;
};

static struct node nodes[FLOOR_NODES]; /* oldest first */
static int node_count;

/* Name -> index into nodes, open addressing, rebuilt on every register and drop (they are rare in
 * the burst; churn holds one node at a time): a PORT_PLEASE2 costs one probe, not a scan. */
#define FLOOR_SLOTS (2 * FLOOR_NODES)
static short by_name[FLOOR_SLOTS];

static unsigned name_hash(const unsigned char *p, int n)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void reindex(void)
{
    memset(by_name, 0xff, sizeof by_name);
    for (int i = 0; i < node_count; i++) {
        unsigned h = name_hash(nodes[i].port2_resp + 12, nodes[i].name_len) % FLOOR_SLOTS;
        while (by_name[h] >= 0) h = (h + 1) % FLOOR_SLOTS;
        by_name[h] = (short)i;
    }
}

/* The newest registration of the name (the floor does not refuse duplicates). */
static int find_by_name(const unsigned char *name, int n)
{
    int found = -1;
    for (unsigned h = name_hash(name, n) % FLOOR_SLOTS; by_name[h] >= 0; h = (h + 1) % FLOOR_SLOTS) {
        struct node *d = &nodes[by_name[h]];
        if (d->name_len == n && memcmp(d->port2_resp + 12, name, (size_t)n) == 0 && by_name[h] > found) found = by_name[h];
    }
    return found;
}
static unsigned creation = 4;
static int listen_port;

static int find_by_fd(int fd)
{
    for (int i = 0; i < node_count; i++)
        if (nodes[i].fd == fd) return i;
    return -1;
}

static void drop(int i)
{
    memmove(&nodes[i], &nodes[i + 1], (size_t)(node_count - i - 1) * sizeof nodes[0]);
    node_count--;
    reindex();
}

static unsigned short be16(const unsigned char *p) { return (unsigned short)(p[0] << 8 | p[1]); }

/* One whole request in buf; returns 1 if the connection stays open as a registration. */
static int serve(int ep, int fd, unsigned char *buf, int n)
{
    static unsigned char out[BUF + 64 * 300];
    int len = 0;
    if (n < 3 || be16(buf) != n - 2) {
        close(fd);
        return 0;
    }
    switch (buf[2]) {
    case 'x': {
        unsigned short nlen = be16(buf + 11);
        if (node_count == FLOOR_NODES || 13 + nlen > n) break;
        struct node *d = &nodes[node_count++];
        d->fd = fd;
        d->name_len = nlen;
        d->port2_resp[0] = 'w';
        d->port2_resp[1] = 0;
        memcpy(d->port2_resp + 2, buf + 3, 10 + nlen); /* port..name */
        d->port2_resp[12 + nlen] = 0;
        d->port2_resp[13 + nlen] = 0;
        d->resp_len = (unsigned short)(14 + nlen);
        d->line_len = snprintf(d->line, sizeof d->line, "name %.*s at port %u\n", nlen, (char *)buf + 13, be16(buf + 3));
        unsigned char reply[6] = {'v', 0, creation >> 24, creation >> 16, creation >> 8, creation};
        creation++;
        reindex();
        send(fd, reply, 6, MSG_NOSIGNAL);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        return 1;
    }
    case 'z': {
        int i = find_by_name(buf + 3, n - 3);
        if (i >= 0) {
            send(fd, nodes[i].port2_resp, nodes[i].resp_len, MSG_NOSIGNAL);
            close(fd);
            return 0;
        }
        out[0] = 'w';
        out[1] = 1;
        len = 2;
        break;
    }
    case 'n':
        out[0] = (unsigned char)(listen_port >> 24);
        out[1] = (unsigned char)(listen_port >> 16);
        out[2] = (unsigned char)(listen_port >> 8);
        out[3] = (unsigned char)listen_port;
        len = 4;
        for (int i = node_count - 1; i >= 0 && len + 300 < (int)sizeof out; i--) {
            memcpy(out + len, nodes[i].line, (size_t)nodes[i].line_len);
            len += nodes[i].line_len;
        }
        break;
    }
    if (len > 0) send(fd, out, (size_t)len, MSG_NOSIGNAL);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    int defer = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-port") == 0) listen_port = atoi(argv[i + 1]);
        if (strcmp(argv[i], "-defer_accept") == 0) defer = atoi(argv[i + 1]);
    }
    if (listen_port <= 0) {
        fprintf(stderr, "usage: epmd_floor -port N\n");
        return 2;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)listen_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, SOMAXCONN) != 0) {
        perror("epmd_floor: bind/listen");
        return 1;
    }
    if (defer > 0) setsockopt(ls, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
    reindex();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static unsigned char buf[BUF];
    struct epoll_event events[256];
    for (;;) {
        int k = epoll_wait(ep, events, 256, -1);
        for (int e = 0; e < k; e++) {
            int fd = events[e].data.fd;
            if (fd == ls) {
                /* One per readiness (level-triggered): no failing accept4 per wakeup. */
                int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0) continue;
                int n = (int)recv(c, buf, sizeof buf, 0);
                if (n > 0) {
                    serve(ep, c, buf, n);
                } else if (n < 0) {
                    /* Not there yet: wait for it (the floor keeps no partial requests). */
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                } else {
                    close(c);
                }
                continue;
            }
            int i = find_by_fd(fd);
            if (i >= 0) {
                drop(i);
                close(fd);
                continue;
            }
            int n = (int)recv(fd, buf, sizeof buf, 0);
            if (n > 0 && serve(ep, fd, buf, n)) continue;
            if (n <= 0) close(fd);
        }
    }
}

/* A C node on OTP's libei, as real C nodes register: ei_connect_init, then ei_publish, whose socket
 * is the registration. libei never re-registers: if that socket closes the node stays unlisted.
 * Usage: cnode NAME PORT SECONDS. Prints "published FD" and holds the socket for SECONDS, then
 * prints "held" (or "closed" at once when the daemon ends the connection). */
#include <ei.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    ei_cnode ec;
    ei_init();
    if (ei_connect_init(&ec, argv[1], "restartcookie", 0) < 0) {
        fprintf(stderr, "ei_connect_init failed\n");
        return 1;
    }
    int fd = ei_publish(&ec, atoi(argv[2]));
    if (fd < 0) {
        fprintf(stderr, "ei_publish failed: %d\n", fd);
        return 1;
    }
    printf("published %d\n", fd);
    fflush(stdout);
    time_t end = time(NULL) + atoi(argv[3]);
    while (time(NULL) < end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 200) > 0) {
            /* libei reads ALIVE2_X_RESP short (4 of its 6 bytes, with OTP's epmd too): those are not an end. */
            char b[16];
            if (recv(fd, b, sizeof b, MSG_DONTWAIT) > 0)
                continue;
            printf("closed\n");
            return 0;
        }
    }
    printf("held\n");
    return 0;
}

/* inet_pton/inet_ntop: OTP parses -address with inet_pton (IPv6 first, then IPv4), so we do
 * exactly the same; .NET's parser accepts forms inet_pton refuses (e.g. "127.1"). */
#include "fastepmd_shim.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int32_t fe_inet_pton(const char *text, uint8_t *address)
{
    if (inet_pton(AF_INET6, text, address) == 1)
        return 6;
    if (inet_pton(AF_INET, text, address) == 1)
        return 4;
    return -EINVAL;
}

int32_t fe_inet_ntop(int32_t is_ipv6, const uint8_t *address, char *text, int32_t capacity)
{
    if (inet_ntop(is_ipv6 ? AF_INET6 : AF_INET, address, text, (socklen_t)capacity) == NULL)
        return -errno;
    return (int32_t)strlen(text);
}

int32_t fe_peer_text(int32_t fd, char *text, int32_t capacity)
{
    struct sockaddr_storage peer;
    socklen_t length = sizeof peer;
    char address[INET6_ADDRSTRLEN];
    int port, n;
    if (getpeername(fd, (struct sockaddr *)&peer, &length) != 0) return -errno;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&peer;
        inet_ntop(AF_INET, &v4->sin_addr, address, sizeof address);
        port = ntohs(v4->sin_port);
        n = snprintf(text, (size_t)capacity, "%s:%d", address, port);
    } else if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&peer;
        inet_ntop(AF_INET6, &v6->sin6_addr, address, sizeof address);
        port = ntohs(v6->sin6_port);
        n = snprintf(text, (size_t)capacity, "[%s]:%d", address, port);
    } else {
        return -EAFNOSUPPORT;
    }
    if (n < 0 || n >= capacity) return -ERANGE;
    return n;
}

/* inet_pton/inet_ntop: OTP parses -address with inet_pton (IPv6 first, then IPv4), so we do
 * exactly the same; .NET's parser accepts forms inet_pton refuses (e.g. "127.1"). */
#include "fastepmd_shim.h"
#include <arpa/inet.h>
#include <errno.h>
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

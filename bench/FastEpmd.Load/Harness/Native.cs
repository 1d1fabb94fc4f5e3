// The few libc calls the harness makes directly (Tmds.LibC), with errno constants copied once.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Load.Harness;

internal static unsafe class Native
{
    public static readonly int EAGAIN = LibC.EAGAIN;
    public static readonly int EWOULDBLOCK = LibC.EWOULDBLOCK;
    public static readonly int EINTR = LibC.EINTR;
    public static readonly int EINPROGRESS = LibC.EINPROGRESS;
    public static readonly int ENOTCONN = LibC.ENOTCONN;
    public static readonly int EPOLL_IN = EPOLLIN;
    public static readonly int EPOLL_OUT = EPOLLOUT;
    public static readonly int EPOLL_ERR = EPOLLERR;
    public static readonly int EPOLL_HUP = EPOLLHUP;

    public static int Errno => errno;

    public static bool WouldBlock(int e) => e == EAGAIN || e == EWOULDBLOCK;

    /// <summary>Clock ticks per second for /proc/PID/stat (sysconf(_SC_CLK_TCK); _SC_CLK_TCK is 2 on Linux).</summary>
    public static readonly long ClockTicks = Math.Max(1, (long)sysconf(2));

    public static sockaddr_in Loopback(int port)
    {
        sockaddr_in sa = default;
        sa.sin_family = (ushort)AF_INET;
        sa.sin_port = (ushort)(((port & 0xFF) << 8) | ((port >> 8) & 0xFF));
        sa.sin_addr.s_addr[0] = 127;
        sa.sin_addr.s_addr[3] = 1;
        return sa;
    }

    /// <summary>A non-blocking TCP socket with connect() started; -errno on failure.</summary>
    public static int StartConnect(sockaddr_in* address) => StartConnectFrom(address, null);

    /// <summary>
    /// As StartConnect, from a 127.x source address when source is not null: IP_BIND_ADDRESS_NO_PORT
    /// lets connect() pick the port knowing the whole 4-tuple, so each source address has the whole
    /// ephemeral range.
    /// </summary>
    public static int StartConnectFrom(sockaddr_in* address, sockaddr_in* source)
    {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        int one = 1;
        if (source != null && (setsockopt(fd, 0 /* SOL_IP */, 24 /* IP_BIND_ADDRESS_NO_PORT */, &one, sizeof(int)) != 0
            || bind(fd, (sockaddr*)source, (socklen_t)sizeof(sockaddr_in)) != 0))
        {
            int e = errno;
            close(fd);
            return -e;
        }
        int rc = connect(fd, (sockaddr*)address, (socklen_t)sizeof(sockaddr_in));
        if (rc != 0)
        {
            int e = errno;
            if (e != EINPROGRESS)
            {
                close(fd);
                return -e;
            }
        }
        return fd;
    }

    public static int SocketError(int fd)
    {
        int value = 0;
        socklen_t length = (socklen_t)sizeof(int);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length);
        return value;
    }

    public static long Send(int fd, byte* p, int length) => send(fd, p, (size_t)length, MSG_NOSIGNAL | MSG_DONTWAIT);

    public static long Receive(int fd, byte* p, int length) => recv(fd, p, (size_t)length, 0);

    public static void Close(int fd) => close(fd);
}

// Listening sockets: socket/bind/listen as OTP sets them up, accept4 with the peer's locality,
// and libuv's spare-descriptor trick for EMFILE.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class Listener
{
    /// <summary>A non-blocking listening socket, or -errno. V6ONLY on IPv6, as OTP.</summary>
    public static int Open(ListenAddress address, ushort port, int deferAcceptSeconds = 0)
    {
        int family = address.IsIPv6 ? AF_INET6 : AF_INET;
        int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -Errno.Last;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(int));
        int rc;
        if (address.IsIPv6)
        {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(int));
            sockaddr_in6 sa = default;
            sa.sin6_family = (ushort)AF_INET6;
            sa.sin6_port = HostToNetwork(port);
            for (int i = 0; i < 16; i++) sa.sin6_addr.s6_addr[i] = address.Address[i];
            rc = bind(fd, (sockaddr*)&sa, (socklen_t)sizeof(sockaddr_in6));
        }
        else
        {
            sockaddr_in sa = default;
            sa.sin_family = (ushort)AF_INET;
            sa.sin_port = HostToNetwork(port);
            for (int i = 0; i < 4; i++) sa.sin_addr.s_addr[i] = address.Address[i];
            rc = bind(fd, (sockaddr*)&sa, (socklen_t)sizeof(sockaddr_in));
        }
        if (rc != 0 || listen(fd, SOMAXCONN) != 0)
        {
            // Read errno before anything else runs: the marshaller resets it on every call.
            int errno = Errno.Last;
            close(fd);
            return -errno;
        }
        if (deferAcceptSeconds > 0)
            setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &deferAcceptSeconds, sizeof(int));
        return fd;
    }

    /// <summary>accept4: the new non-blocking descriptor, or -errno; the peer's address and locality.</summary>
    public static int Accept(int listenFd, out PeerAddress peer)
    {
        sockaddr_storage address;
        socklen_t length = (socklen_t)sizeof(sockaddr_storage);
        peer = default;
        int fd = accept4(listenFd, (sockaddr*)&address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return -Errno.Last;
        FillPeer(fd, &address, out peer);
        return fd;
    }

    /// <summary>The peer of a connected socket (an inherited ALIVE connection); false when it has none.</summary>
    public static bool PeerOf(int fd, out PeerAddress peer)
    {
        sockaddr_storage address;
        socklen_t length = (socklen_t)sizeof(sockaddr_storage);
        peer = default;
        if (getpeername(fd, (sockaddr*)&address, &length) != 0) return false;
        FillPeer(fd, &address, out peer);
        return true;
    }

    private static void FillPeer(int fd, sockaddr_storage* address, out PeerAddress peer)
    {
        peer = default;
        peer.IsLocal = IsLocalPeer(fd, (sockaddr*)address);
        if (address->ss_family == AF_INET)
        {
            var v4 = (sockaddr_in*)address;
            peer.Family = (ushort)AF_INET;
            peer.Port = HostToNetwork(v4->sin_port);
            for (int i = 0; i < 4; i++) peer.Address[i] = v4->sin_addr.s_addr[i];
        }
        else if (address->ss_family == AF_INET6)
        {
            var v6 = (sockaddr_in6*)address;
            peer.Family = (ushort)AF_INET6;
            peer.Port = HostToNetwork(v6->sin6_port);
            for (int i = 0; i < 16; i++) peer.Address[i] = v6->sin6_addr.s6_addr[i];
        }
    }

    /// <summary>
    /// OTP's rule: 127.0.0.0/8 and ::1 are local; otherwise the peer is local only when its
    /// address equals the socket's own local address (a connection from this host to itself).
    /// </summary>
    public static bool IsLocalPeer(int fd, sockaddr* peer)
    {
        if (peer->sa_family == AF_INET)
        {
            var v4 = (sockaddr_in*)peer;
            if (v4->sin_addr.s_addr[0] == 127) return true;
        }
        else if (peer->sa_family == AF_INET6)
        {
            var v6 = (sockaddr_in6*)peer;
            if (IsIPv6Loopback(v6->sin6_addr.s6_addr)) return true;
        }
        else
        {
            return false;
        }
        sockaddr_storage local;
        socklen_t length = (socklen_t)sizeof(sockaddr_storage);
        if (getsockname(fd, (sockaddr*)&local, &length) != 0) return false;
        if (local.ss_family != peer->sa_family) return false;
        if (peer->sa_family == AF_INET)
            return new ReadOnlySpan<byte>(((sockaddr_in*)peer)->sin_addr.s_addr, 4)
                .SequenceEqual(new ReadOnlySpan<byte>(((sockaddr_in*)&local)->sin_addr.s_addr, 4));
        return new ReadOnlySpan<byte>(((sockaddr_in6*)peer)->sin6_addr.s6_addr, 16)
            .SequenceEqual(new ReadOnlySpan<byte>(((sockaddr_in6*)&local)->sin6_addr.s6_addr, 16));
    }

    private static bool IsIPv6Loopback(byte* a)
    {
        for (int i = 0; i < 15; i++)
        {
            if (a[i] != 0) return false;
        }
        return a[15] == 1;
    }

    /// <summary>The port a socket is bound to (systemd sockets, diagnostics).</summary>
    public static int LocalPort(int fd)
    {
        sockaddr_storage local;
        socklen_t length = (socklen_t)sizeof(sockaddr_storage);
        if (getsockname(fd, (sockaddr*)&local, &length) != 0) return -1;
        ushort port = local.ss_family == AF_INET6 ? ((sockaddr_in6*)&local)->sin6_port : ((sockaddr_in*)&local)->sin_port;
        return HostToNetwork(port);
    }

    public static ushort HostToNetwork(ushort value) =>
        BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value) : value;

    /// <summary>A descriptor held in reserve, given up for a moment when accept hits EMFILE.</summary>
    public static int OpenSpare()
    {
        fixed (byte* path = "/dev/null\0"u8)
        {
            return open(path, O_RDONLY | O_CLOEXEC);
        }
    }
}

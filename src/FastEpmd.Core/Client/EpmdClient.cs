// A blocking connection to the local epmd, as OTP's client opens it ([::1] first, then
// 127.0.0.1), with the read and write calls OTP's epmd_cli.c makes. Raw libc, no System.Net.Sockets.
using FastEpmd.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Client;

internal sealed unsafe class EpmdClient : IDisposable
{
    private int _fd;

    private EpmdClient(int fd) => _fd = fd;

    /// <summary>
    /// Connects to [::1]:port, then 127.0.0.1:port; null when neither accepts. The port is the
    /// configured one truncated to 16 bits, as OTP's "unsigned short sport = g->port".
    /// </summary>
    public static EpmdClient? ConnectLocal(ushort port)
    {
        int fd = TryConnect(ipv6: true, port);
        if (fd < 0) fd = TryConnect(ipv6: false, port);
        return fd < 0 ? null : new EpmdClient(fd);
    }

    /// <summary>Frames and sends one request: 2-byte big-endian length, the tag, the body.</summary>
    public bool SendRequest(byte tag, ReadOnlySpan<byte> body)
    {
        var frame = new byte[3 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame, checked((ushort)(1 + body.Length)));
        frame[2] = tag;
        body.CopyTo(frame.AsSpan(3));
        return Send(frame);
    }

    /// <summary>One send of a whole request; false when it did not all go (OTP: write() != n).</summary>
    public bool Send(ReadOnlySpan<byte> request)
    {
        fixed (byte* p = request)
        {
            while (true)
            {
                long n = send(_fd, p, (size_t)request.Length, MSG_NOSIGNAL);
                if (n >= 0) return n == request.Length;
                if (Errno.Last != Errno.EINTR) return false;
            }
        }
    }

    /// <summary>One recv: the byte count, 0 at end of stream, -1 on an error.</summary>
    public int Receive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                long n = recv(_fd, p, (size_t)buffer.Length, 0);
                if (n >= 0) return (int)n;
                if (Errno.Last != Errno.EINTR) return -1;
            }
        }
    }

    /// <summary>
    /// OTP's read_fill: buffer.Length when it is filled, otherwise the result of the read that
    /// stopped it (0 at end of stream, -1 on an error), whatever arrived before.
    /// </summary>
    public int ReceiveExactly(Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = Receive(buffer[got..]);
            if (n <= 0) return n;
            got += n;
        }
        return buffer.Length;
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
    }

    private static int TryConnect(bool ipv6, ushort port)
    {
        int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        int rc;
        if (ipv6)
        {
            sockaddr_in6 sa = default;
            sa.sin6_family = (ushort)AF_INET6;
            sa.sin6_port = HostToNetwork(port);
            sa.sin6_addr.s6_addr[15] = 1;
            rc = ConnectRetryingInterrupts(fd, (sockaddr*)&sa, sizeof(sockaddr_in6));
        }
        else
        {
            sockaddr_in sa = default;
            sa.sin_family = (ushort)AF_INET;
            sa.sin_port = HostToNetwork(port);
            sa.sin_addr.s_addr[0] = 127;
            sa.sin_addr.s_addr[3] = 1;
            rc = ConnectRetryingInterrupts(fd, (sockaddr*)&sa, sizeof(sockaddr_in));
        }
        if (rc == 0) return fd;
        close(fd);
        return -1;
    }

    // A blocking connect interrupted by a signal keeps going in the kernel; calling connect
    // again would fail with EALREADY, so wait for the outcome instead.
    private static int ConnectRetryingInterrupts(int fd, sockaddr* address, int length)
    {
        if (connect(fd, address, (socklen_t)length) == 0) return 0;
        if (Errno.Last != Errno.EINTR) return -1;
        pollfd pfd = default;
        pfd.fd = fd;
        pfd.events = (short)POLLOUT;
        while (poll(&pfd, 1, -1) < 0)
        {
            if (Errno.Last != Errno.EINTR) return -1;
        }
        int error = 0;
        socklen_t size = (socklen_t)sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) return -1;
        return 0;
    }

    private static ushort HostToNetwork(ushort value) =>
        BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value) : value;
}

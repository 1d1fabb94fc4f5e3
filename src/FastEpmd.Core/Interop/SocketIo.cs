// recv/send/close on non-blocking sockets: EINTR retried here, errno turned into IoStatus.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class SocketIo
{
    private static readonly int s_sendFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
    private static readonly int s_lastSendFlags = MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE;
    private static readonly int s_peekFlags = MSG_PEEK | MSG_DONTWAIT;

    public static IoStatus Receive(int fd, Span<byte> buffer, out int received, out int errno)
    {
        received = 0;
        errno = 0;
        fixed (byte* p = buffer)
        {
            while (true)
            {
                long n = recv(fd, p, (size_t)buffer.Length, 0);
                if (n > 0)
                {
                    received = (int)n;
                    return IoStatus.Done;
                }
                if (n == 0) return IoStatus.PeerClosed;
                errno = Errno.Last;
                if (errno == Errno.EINTR) continue;
                return Classify(errno);
            }
        }
    }

    /// <summary>
    /// Sends without blocking. <paramref name="endsStream"/>: the reply is the last thing on this
    /// connection, so its tail is held back (MSG_MORE) for <see cref="ShutdownWrite"/> to send with the FIN.
    /// </summary>
    public static IoStatus Send(int fd, ReadOnlySpan<byte> buffer, bool endsStream, out int sent, out int errno)
    {
        int flags = endsStream ? s_lastSendFlags : s_sendFlags;
        sent = 0;
        errno = 0;
        fixed (byte* p = buffer)
        {
            while (true)
            {
                long n = send(fd, p, (size_t)buffer.Length, flags);
                if (n >= 0)
                {
                    sent = (int)n;
                    return IoStatus.Done;
                }
                errno = Errno.Last;
                if (errno == Errno.EINTR) continue;
                return Classify(errno);
            }
        }
    }

    /// <summary>Looks at a socket without consuming: Done (data waiting), WouldBlock (idle), or gone.</summary>
    public static IoStatus Peek(int fd)
    {
        byte b;
        while (true)
        {
            long n = recv(fd, &b, 1, s_peekFlags);
            if (n > 0) return IoStatus.Done;
            if (n == 0) return IoStatus.PeerClosed;
            int errno = Errno.Last;
            if (errno == Errno.EINTR) continue;
            return Classify(errno);
        }
    }

    /// <summary>
    /// Before the close of a connection whose reply went out with MSG_MORE: shutdown(SHUT_WR)
    /// pushes the held reply and the FIN as one segment (one loopback delivery and one wake-up of
    /// the client instead of two). Closing straight away would not do: with unread input (a
    /// client's late trailing bytes) close() resets and discards the unsent reply; after the
    /// shutdown the reply is already on its way, as OTP's is.
    /// </summary>
    public static void ShutdownWrite(int fd) => shutdown(fd, SHUT_WR);

    /// <summary>O_NONBLOCK and FD_CLOEXEC on an inherited descriptor (systemd passes them as they were stored).</summary>
    public static void MakeNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }

    /// <summary>close(2); EINTR is not retried (Linux has closed the descriptor already).</summary>
    public static void Close(int fd) => close(fd);

    public static IoStatus Classify(int errno)
    {
        if (Errno.IsWouldBlock(errno)) return IoStatus.WouldBlock;
        if (Errno.IsPeerGone(errno)) return IoStatus.Reset;
        return IoStatus.Failed;
    }
}

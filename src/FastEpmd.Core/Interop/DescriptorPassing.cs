// SCM_RIGHTS over a connected AF_UNIX socket: one message with up to MaxPerMessage descriptors,
// sent and received with sendmsg/recvmsg through Tmds.LibC's msghdr and CMSG_* (no C needed).
// Received descriptors are close-on-exec; a truncated message closes whatever did arrive.
using FastEpmd.Reactor;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class DescriptorPassing
{
    /// <summary>SCM_MAX_FD: the kernel refuses a message with more (EINVAL).</summary>
    public const int MaxPerMessage = 253;

    private static readonly int s_sendFlags = MSG_NOSIGNAL | MSG_DONTWAIT;
    private static readonly int s_receiveFlags = MSG_CMSG_CLOEXEC | MSG_DONTWAIT;
    private static readonly int s_truncated = MSG_CTRUNC | MSG_TRUNC;

    /// <summary>The control buffer that carries count descriptors (CMSG_SPACE).</summary>
    public static int ControlSpace(int count) => (int)CMSG_SPACE(count * sizeof(int));

    /// <summary>
    /// One message: data plus descriptors (their copies: the caller still owns its own). Done means
    /// the whole message went (a SOCK_SEQPACKET record is all or nothing); EINTR is retried here.
    /// </summary>
    public static IoStatus Send(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<int> descriptors, out int errno)
    {
        errno = 0;
        if (descriptors.Length > MaxPerMessage)
        {
            errno = Errno.EINVAL;
            return IoStatus.Failed;
        }
        int space = descriptors.Length == 0 ? 0 : ControlSpace(descriptors.Length);
        byte* control = stackalloc byte[Math.Max(space, 1)];
        new Span<byte>(control, Math.Max(space, 1)).Clear();
        fixed (byte* p = data)
        {
            iovec io = default;
            io.iov_base = p;
            io.iov_len = (size_t)data.Length;
            msghdr message = default;
            message.msg_iov = &io;
            message.msg_iovlen = 1;
            if (space > 0)
            {
                message.msg_control = control;
                message.msg_controllen = (socklen_t)space;
                cmsghdr* header = CMSG_FIRSTHDR(&message);
                header->cmsg_level = SOL_SOCKET;
                header->cmsg_type = SCM_RIGHTS;
                header->cmsg_len = (socklen_t)(sizeof(cmsghdr) + descriptors.Length * sizeof(int));
                descriptors.CopyTo(new Span<int>(CMSG_DATA(header), descriptors.Length));
            }
            while (true)
            {
                long n = sendmsg(fd, &message, s_sendFlags);
                if (n >= 0) return IoStatus.Done;
                errno = Errno.Last;
                if (errno == Errno.EINTR) continue;
                return SocketIo.Classify(errno);
            }
        }
    }

    /// <summary>
    /// One message into data, its descriptors into descriptors (count in received/descriptorCount).
    /// A message cut short (data or descriptors: the buffer, or the receiver's descriptor limit) is
    /// Failed with EMSGSIZE, and every descriptor that did arrive is closed.
    /// </summary>
    public static IoStatus Receive(int fd, Span<byte> data, Span<int> descriptors, out int received,
        out int descriptorCount, out int errno)
    {
        received = 0;
        descriptorCount = 0;
        errno = 0;
        int space = ControlSpace(Math.Max(1, descriptors.Length));
        byte* control = stackalloc byte[space];
        fixed (byte* p = data)
        {
            iovec io = default;
            io.iov_base = p;
            io.iov_len = (size_t)data.Length;
            msghdr message = default;
            message.msg_iov = &io;
            message.msg_iovlen = 1;
            message.msg_control = control;
            message.msg_controllen = (socklen_t)space;
            long n;
            while (true)
            {
                n = recvmsg(fd, &message, s_receiveFlags);
                if (n >= 0) break;
                errno = Errno.Last;
                if (errno == Errno.EINTR) continue;
                return SocketIo.Classify(errno);
            }
            int arrived = 0;
            for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != null; header = CMSG_NXTHDR(&message, header))
            {
                if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
                int count = ((int)header->cmsg_len - sizeof(cmsghdr)) / sizeof(int);
                int* fds = (int*)CMSG_DATA(header);
                for (int i = 0; i < count; i++)
                {
                    // More than asked for can only come from a buffer rounded up by CMSG_SPACE.
                    if (arrived < descriptors.Length) descriptors[arrived++] = fds[i];
                    else
                    {
                        close(fds[i]);
                        message.msg_flags |= MSG_CTRUNC;
                    }
                }
            }
            if ((message.msg_flags & s_truncated) != 0)
            {
                for (int i = 0; i < arrived; i++) close(descriptors[i]);
                errno = Errno.EMSGSIZE;
                return IoStatus.Failed;
            }
            if (n == 0 && arrived == 0) return IoStatus.PeerClosed;
            received = (int)n;
            descriptorCount = arrived;
            return IoStatus.Done;
        }
    }
}

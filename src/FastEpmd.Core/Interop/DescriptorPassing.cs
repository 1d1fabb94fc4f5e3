// SCM_RIGHTS records on a connected non-blocking AF_UNIX socket, for the -upgrade handoff: the
// shim's fe_fd_send/fe_fd_recv (cmsg macros stay in C) with errno turned into IoStatus. Received
// descriptors are close-on-exec; a record cut short closes whatever did arrive (EMSGSIZE).
namespace FastEpmd.Interop;

internal static unsafe class DescriptorPassing
{
    /// <summary>SCM_MAX_FD: the kernel refuses a message with more (EINVAL).</summary>
    public const int MaxPerMessage = Shim.MaxPassedFds;

    /// <summary>
    /// One record: data plus copies of descriptors (the caller keeps its own). Done means the whole
    /// record went (a SOCK_SEQPACKET record is all or nothing).
    /// </summary>
    public static IoStatus Send(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<int> descriptors, out int errno)
    {
        errno = 0;
        int n;
        fixed (byte* p = data)
        fixed (int* fds = descriptors)
        {
            n = Shim.FdSend(fd, p, data.Length, fds, descriptors.Length, null, 0);
        }
        if (n >= 0) return IoStatus.Done;
        errno = -n;
        return SocketIo.Classify(errno);
    }

    /// <summary>
    /// One record into data, its descriptors into descriptors (caller owns them). EOF is PeerClosed
    /// (handoff records are never empty); a record cut short is Failed, EMSGSIZE. Descriptors beyond
    /// the span are closed on arrival: a handoff Batch then lists more entries than it brought.
    /// </summary>
    public static IoStatus Receive(int fd, Span<byte> data, Span<int> descriptors, out int received,
        out int descriptorCount, out int errno)
    {
        received = 0;
        descriptorCount = 0;
        errno = 0;
        int n, count;
        fixed (byte* p = data)
        fixed (int* fds = descriptors)
        {
            n = Shim.FdReceive(fd, p, data.Length, fds, descriptors.Length, &count);
        }
        if (n < 0)
        {
            errno = -n;
            return SocketIo.Classify(errno);
        }
        if (n == 0 && count == 0) return IoStatus.PeerClosed;
        received = n;
        descriptorCount = count;
        return IoStatus.Done;
    }
}

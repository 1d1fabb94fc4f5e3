// accept4's errno, classified once: what the accept path does with each failure.
namespace FastEpmd.Interop;

internal enum AcceptErrorKind
{
    /// <summary>EAGAIN: nothing queued.</summary>
    QueueEmpty,

    /// <summary>EINTR, ECONNABORTED: try again at once; if it repeats, wait for the next readiness.</summary>
    Interrupted,

    /// <summary>
    /// A queued connection's own error, which Linux reports from accept (accept(2): "treat them like
    /// EAGAIN by retrying"), or EPERM from a firewall rule. Tried again at once; if it persists, as Persistent.
    /// </summary>
    PendingConnectionError,

    /// <summary>EMFILE, ENFILE, ENOBUFS, ENOMEM: shed the queue with the spare descriptor.</summary>
    OutOfResources,

    /// <summary>EINVAL, ENOTSOCK, EBADF: the descriptor is not a listening socket; OTP exits 1.</summary>
    NotAListener,

    /// <summary>Anything else: the listener pauses with backoff, so a level-triggered error cannot spin.</summary>
    Persistent,
}

internal static class AcceptError
{
    public static AcceptErrorKind Classify(int errno)
    {
        if (Errno.IsWouldBlock(errno)) return AcceptErrorKind.QueueEmpty;
        if (errno == Errno.EINTR || errno == Errno.ECONNABORTED) return AcceptErrorKind.Interrupted;
        if (Errno.IsOutOfDescriptors(errno)) return AcceptErrorKind.OutOfResources;
        if (errno == Errno.EINVAL || errno == Errno.ENOTSOCK || errno == Errno.EBADF) return AcceptErrorKind.NotAListener;
        if (errno == Errno.EPROTO || errno == Errno.ENOPROTOOPT || errno == Errno.EHOSTDOWN || errno == Errno.ENONET
            || errno == Errno.EHOSTUNREACH || errno == Errno.EOPNOTSUPP || errno == Errno.ENETDOWN
            || errno == Errno.ENETUNREACH || errno == Errno.EPERM)
            return AcceptErrorKind.PendingConnectionError;
        return AcceptErrorKind.Persistent;
    }

    /// <summary>Worth another accept4 straight away (the failed connection left the queue, or a signal hit).</summary>
    public static bool RetryAtOnce(AcceptErrorKind kind) =>
        kind is AcceptErrorKind.Interrupted or AcceptErrorKind.PendingConnectionError;
}

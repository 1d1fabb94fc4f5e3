// accept4's errno, classified once: what the accept path does with each failure.
using Tmds.Linux;

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
    public static readonly int EINVAL = LibC.EINVAL;
    public static readonly int ENOTSOCK = LibC.ENOTSOCK;
    public static readonly int EBADF = LibC.EBADF;
    public static readonly int EPERM = LibC.EPERM;
    public static readonly int EPROTO = LibC.EPROTO;
    public static readonly int ENOPROTOOPT = LibC.ENOPROTOOPT;
    public static readonly int EHOSTDOWN = LibC.EHOSTDOWN;
    public static readonly int ENONET = LibC.ENONET;
    public static readonly int EHOSTUNREACH = LibC.EHOSTUNREACH;
    public static readonly int EOPNOTSUPP = LibC.EOPNOTSUPP;
    public static readonly int ENETDOWN = LibC.ENETDOWN;
    public static readonly int ENETUNREACH = LibC.ENETUNREACH;

    public static AcceptErrorKind Classify(int errno)
    {
        if (Errno.IsWouldBlock(errno)) return AcceptErrorKind.QueueEmpty;
        if (errno == Errno.EINTR || errno == Errno.ECONNABORTED) return AcceptErrorKind.Interrupted;
        if (Errno.IsOutOfDescriptors(errno)) return AcceptErrorKind.OutOfResources;
        if (errno == EINVAL || errno == ENOTSOCK || errno == EBADF) return AcceptErrorKind.NotAListener;
        if (errno == EPROTO || errno == ENOPROTOOPT || errno == EHOSTDOWN || errno == ENONET || errno == EHOSTUNREACH
            || errno == EOPNOTSUPP || errno == ENETDOWN || errno == ENETUNREACH || errno == EPERM)
            return AcceptErrorKind.PendingConnectionError;
        return AcceptErrorKind.Persistent;
    }

    /// <summary>Worth another accept4 straight away (the failed connection left the queue, or a signal hit).</summary>
    public static bool RetryAtOnce(AcceptErrorKind kind) =>
        kind is AcceptErrorKind.Interrupted or AcceptErrorKind.PendingConnectionError;
}

// errno, classified once. Tmds.LibC exposes its constants as properties, so they are copied
// into static readonly fields; a unit test checks the copies against LibC.
using Tmds.Linux;

namespace FastEpmd.Interop;

internal static class Errno
{
    public static readonly int EINTR = LibC.EINTR;
    public static readonly int EAGAIN = LibC.EAGAIN;
    public static readonly int EWOULDBLOCK = LibC.EWOULDBLOCK;
    public static readonly int ECONNRESET = LibC.ECONNRESET;
    public static readonly int ECONNABORTED = LibC.ECONNABORTED;
    public static readonly int EPIPE = LibC.EPIPE;
    public static readonly int EIO = LibC.EIO;
    public static readonly int EMFILE = LibC.EMFILE;
    public static readonly int ENFILE = LibC.ENFILE;
    public static readonly int ENOBUFS = LibC.ENOBUFS;
    public static readonly int ENOMEM = LibC.ENOMEM;
    public static readonly int EADDRINUSE = LibC.EADDRINUSE;
    public static readonly int EAFNOSUPPORT = LibC.EAFNOSUPPORT;
    public static readonly int EPROTONOSUPPORT = LibC.EPROTONOSUPPORT;
    public static readonly int EADDRNOTAVAIL = LibC.EADDRNOTAVAIL;
    public static readonly int ENOSYS = LibC.ENOSYS;
    public static readonly int ETIMEDOUT = LibC.ETIMEDOUT;

    // accept4's "not a listener" and a queued connection's own errors (AcceptError).
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

    // The upgrade control socket (DescriptorPassing, UnixSocket).
    public static readonly int EMSGSIZE = LibC.EMSGSIZE;
    public static readonly int ECONNREFUSED = LibC.ECONNREFUSED;
    public static readonly int ENOENT = LibC.ENOENT;
    public static readonly int EACCES = LibC.EACCES;
    public static readonly int EEXIST = LibC.EEXIST;

    /// <summary>errno of the last Tmds.LibC call on this thread.</summary>
    public static int Last => LibC.errno;

    public static bool IsWouldBlock(int errno) => errno == EAGAIN || errno == EWOULDBLOCK;

    /// <summary>The peer went away: not our error, not worth more than a debug line.</summary>
    public static bool IsPeerGone(int errno) => errno == ECONNRESET || errno == EPIPE || errno == ECONNABORTED || errno == ETIMEDOUT;

    /// <summary>Out of descriptors: transient for us (OTP exits here).</summary>
    public static bool IsOutOfDescriptors(int errno) => errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;

    public static unsafe string Describe(int errno)
    {
        byte* buffer = stackalloc byte[256];
        // GNU strerror_r may return a static string instead of filling the buffer; Tmds binds the
        // XSI variant, which fills it.
        if (LibC.strerror_r(errno, buffer, 256) != 0) return "errno " + errno;
        return new string((sbyte*)buffer);
    }
}

/// <summary>A failed start-up syscall, with strerror text.</summary>
internal sealed class ErrnoException(string operation, int errno)
    : Exception($"{operation}: {FastEpmd.Interop.Errno.Describe(errno)}")
{
    public int Code { get; } = errno;
}

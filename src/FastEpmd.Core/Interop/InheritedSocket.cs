// A descriptor handed over (by systemd, or by a daemon handing off) is used only if it is what it
// claims to be: a listener is a listening SOCK_STREAM socket of AF_INET or AF_INET6, an ALIVE
// connection a connected one. OTP takes any fd and finds out in accept(), where an unbound or
// connected socket, a pipe or a file gives `error in accept` and exit 1, and a UDP or AF_UNIX socket
// leaves it waiting forever; we say which fd is wrong and what it is, before serving.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class InheritedSocket
{
    /// <summary>Null when fd is a listening TCP socket; otherwise what it is instead, for the error line.</summary>
    public static string? ListenerProblem(int fd)
    {
        if (StreamProblem(fd) is { } problem) return problem;
        if (!TryGetInt(fd, SO_ACCEPTCONN, out int listening) || listening == 0)
            return $"fd {fd} is {NotListeningKind(fd)}";
        return null;
    }

    /// <summary>
    /// Null when fd is a TCP socket that is not listening (an ALIVE connection, or one whose peer has
    /// gone: the caller looks at that); otherwise what it is instead.
    /// </summary>
    public static string? ConnectionProblem(int fd)
    {
        if (StreamProblem(fd) is { } problem) return problem;
        if (TryGetInt(fd, SO_ACCEPTCONN, out int listening) && listening != 0) return $"fd {fd} is a listening TCP socket, not a connection";
        return null;
    }

    private static string? StreamProblem(int fd)
    {
        if (fcntl(fd, F_GETFD) < 0) return $"fd {fd} is not open";
        if (!TryGetInt(fd, SO_TYPE, out int type)) return $"fd {fd} is {FileKind(fd)}, not a socket";
        if (!TryGetInt(fd, SO_DOMAIN, out int domain)) domain = -1;
        if (domain != AF_INET && domain != AF_INET6)
            return $"fd {fd} is {FamilyName(domain)} socket, not AF_INET or AF_INET6";
        if (type != SOCK_STREAM) return $"fd {fd} is {TypeName(type)} socket, not a stream (TCP) socket";
        return null;
    }

    private static bool TryGetInt(int fd, int option, out int value)
    {
        int v = 0;
        socklen_t length = (socklen_t)sizeof(int);
        bool ok = getsockopt(fd, SOL_SOCKET, option, &v, &length) == 0;
        value = v;
        return ok;
    }

    private static string FileKind(int fd)
    {
        stat st;
        if (fstat(fd, &st) != 0) return "unknown";
        uint mode = (uint)st.st_mode & (uint)S_IFMT;
        if (mode == (uint)S_IFREG) return "a regular file";
        if (mode == (uint)S_IFIFO) return "a pipe or FIFO";
        if (mode == (uint)S_IFCHR) return "a character device";
        if (mode == (uint)S_IFDIR) return "a directory";
        if (mode == (uint)S_IFBLK) return "a block device";
        return "not a socket";
    }

    private static string FamilyName(int domain)
    {
        if (domain == AF_UNIX) return "an AF_UNIX";
        if (domain == AF_NETLINK) return "an AF_NETLINK";
        if (domain == AF_PACKET) return "an AF_PACKET";
        return domain < 0 ? "an unknown-family" : $"a family-{domain}";
    }

    private static string TypeName(int type)
    {
        if (type == SOCK_DGRAM) return "a datagram (SOCK_DGRAM, e.g. UDP)";
        if (type == SOCK_RAW) return "a raw (SOCK_RAW)";
        if (type == SOCK_SEQPACKET) return "a SOCK_SEQPACKET";
        return $"a type-{type}";
    }

    /// <summary>Connected (what systemd's Accept=yes hands over), bound but not listening, or unbound.</summary>
    private static string NotListeningKind(int fd)
    {
        sockaddr_storage address;
        socklen_t length = (socklen_t)sizeof(sockaddr_storage);
        if (getpeername(fd, (sockaddr*)&address, &length) == 0)
            return "a connected TCP socket (as from Accept=yes), not a listening one";
        return Listener.LocalPort(fd) > 0
            ? "a bound TCP socket that is not listening"
            : "an unbound TCP socket, not a listening one";
    }
}

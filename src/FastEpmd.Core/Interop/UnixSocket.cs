// AF_UNIX SOCK_SEQPACKET sockets at a path (the -upgrade control socket: a file in a directory only
// the daemon's user may enter, so only processes that see that mount can reach it) or under an
// abstract name (tests; scoped to the network namespace, no permissions), and the peer's
// credentials. SEQPACKET keeps message boundaries, so each handoff message and its SCM_RIGHTS
// descriptors arrive as one record.
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class UnixSocket
{
    /// <summary>sun_path less the leading NUL that marks an abstract name (or a path's closing NUL).</summary>
    public const int MaxAbstractName = 107;

    /// <summary>A non-blocking listener bound to the name (a path when it starts with '/', else abstract), or -errno.</summary>
    public static int Listen(string name, int backlog = 8)
    {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -Errno.Last;
        sockaddr_un address;
        int length = Address(name, &address);
        if (bind(fd, (sockaddr*)&address, (socklen_t)length) != 0 || listen(fd, backlog) != 0)
        {
            int errno = Errno.Last;
            close(fd);
            return -errno;
        }
        return fd;
    }

    /// <summary>A non-blocking connected socket, or -errno (ECONNREFUSED: nobody listens there).</summary>
    public static int Connect(string name)
    {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) return -Errno.Last;
        sockaddr_un address;
        int length = Address(name, &address);
        int rc;
        do rc = connect(fd, (sockaddr*)&address, (socklen_t)length);
        while (rc != 0 && Errno.Last == Errno.EINTR);
        if (rc != 0)
        {
            int errno = Errno.Last;
            close(fd);
            return -errno;
        }
        // Connected blocking (a local connect never waits long); used non-blocking with poll.
        int flags = fcntl(fd, F_GETFL, 0);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        return fd;
    }

    /// <summary>accept4 on a control listener: a non-blocking descriptor, or -errno.</summary>
    public static int Accept(int listenFd)
    {
        while (true)
        {
            int fd = accept4(listenFd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) return fd;
            int errno = Errno.Last;
            if (errno != Errno.EINTR) return -errno;
        }
    }

    /// <summary>SO_PEERCRED: who is at the other end (as of connect or listen); false when unknown.</summary>
    public static bool TryPeer(int fd, out uint uid, out int pid)
    {
        ucred credentials = default;
        socklen_t length = (socklen_t)sizeof(ucred);
        uid = uint.MaxValue;
        pid = 0;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return false;
        uid = credentials.uid;
        pid = credentials.pid;
        return true;
    }

    /// <summary>
    /// The peer may take or give this daemon's descriptors: the same user, or root. Anyone else
    /// on the host could otherwise steal every node's registration, or feed a root daemon a state.
    /// </summary>
    public static bool IsTrustedPeer(int fd, out uint uid, out int pid)
    {
        if (!TryPeer(fd, out uid, out pid)) return false;
        return uid == 0 || uid == geteuid();
    }

    /// <summary>Waits until fd is readable (or writable), at most timeoutMs: false on timeout.</summary>
    public static bool Wait(int fd, bool forWrite, int timeoutMs)
    {
        pollfd entry = default;
        entry.fd = fd;
        entry.events = (short)(forWrite ? POLLOUT : POLLIN);
        int rc;
        do rc = poll(&entry, 1, Math.Max(0, timeoutMs));
        while (rc < 0 && Errno.Last == Errno.EINTR);
        return rc > 0;
    }

    /// <summary>unlink(2) of a socket file; 0 or -errno.</summary>
    public static int Unlink(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes) return unlink(p) == 0 ? 0 : -Errno.Last;
    }

    /// <summary>A path ("/...", NUL-terminated) or an abstract name (a leading NUL, no terminator).</summary>
    private static int Address(string name, sockaddr_un* address)
    {
        *address = default;
        address->sun_family = AF_UNIX;
        var bytes = Encoding.UTF8.GetBytes(name);
        int n = Math.Min(bytes.Length, MaxAbstractName);
        byte* path = address->sun_path;
        if (name.StartsWith('/'))
        {
            for (int i = 0; i < n; i++) path[i] = bytes[i];
            path[n] = 0;
            return sizeof(ushort) + n + 1;
        }
        path[0] = 0;
        for (int i = 0; i < n; i++) path[1 + i] = bytes[i];
        return sizeof(ushort) + 1 + n;
    }
}

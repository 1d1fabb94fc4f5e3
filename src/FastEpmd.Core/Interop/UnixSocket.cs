// AF_UNIX SOCK_SEQPACKET sockets under an abstract name (no file to create, clean up or protect;
// scoped to the network namespace), and the peer's credentials. SEQPACKET keeps message
// boundaries, so each handoff message and its SCM_RIGHTS descriptors arrive as one record.
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class UnixSocket
{
    /// <summary>sun_path less the leading NUL that marks an abstract name.</summary>
    public const int MaxAbstractName = 107;

    /// <summary>A non-blocking listener bound to the abstract name, or -errno.</summary>
    public static int Listen(string abstractName, int backlog = 8)
    {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -Errno.Last;
        sockaddr_un address;
        int length = Address(abstractName, &address);
        if (bind(fd, (sockaddr*)&address, (socklen_t)length) != 0 || listen(fd, backlog) != 0)
        {
            int errno = Errno.Last;
            close(fd);
            return -errno;
        }
        return fd;
    }

    /// <summary>A non-blocking connected socket, or -errno (ECONNREFUSED: nobody listens there).</summary>
    public static int Connect(string abstractName)
    {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) return -Errno.Last;
        sockaddr_un address;
        int length = Address(abstractName, &address);
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

    private static int Address(string abstractName, sockaddr_un* address)
    {
        *address = default;
        address->sun_family = AF_UNIX;
        var name = Encoding.UTF8.GetBytes(abstractName);
        int n = Math.Min(name.Length, MaxAbstractName);
        byte* path = address->sun_path;
        path[0] = 0;
        for (int i = 0; i < n; i++) path[1 + i] = name[i];
        return sizeof(ushort) + 1 + n;
    }
}

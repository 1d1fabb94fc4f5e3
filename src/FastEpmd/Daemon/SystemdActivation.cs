// systemd socket activation and readiness without libsystemd: LISTEN_FDS/LISTEN_PID give the
// listening sockets from fd 3 on; NOTIFY_SOCKET takes plain datagrams (READY=1, STATUS=...).
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Daemon;

internal static unsafe class SystemdActivation
{
    public const int FirstFd = 3;
    public const int MaxFds = 16;

    /// <summary>The descriptors systemd passed, or an OTP-worded error.</summary>
    public static int[] ListenFds(out string? error)
    {
        error = null;
        var pidText = Environment.GetEnvironmentVariable("LISTEN_PID");
        var fdsText = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (pidText is null || fdsText is null || !int.TryParse(pidText, out int pid) || pid != Environment.ProcessId
            || !int.TryParse(fdsText, out int count) || count <= 0)
        {
            error = "systemd provides no sockets";
            return Array.Empty<int>();
        }
        if (count > MaxFds)
        {
            error = "cannot listen on more than 16 IP addresses";
            return Array.Empty<int>();
        }
        var fds = new int[count];
        for (int i = 0; i < count; i++)
        {
            fds[i] = FirstFd + i;
            if (InheritedListener.Problem(fds[i]) is { } problem)
            {
                error = "cannot obtain sockets from systemd: " + problem;
                return Array.Empty<int>();
            }
            // Our reactor needs non-blocking listeners; systemd hands them over blocking.
            int flags = fcntl(fds[i], F_GETFL);
            fcntl(fds[i], F_SETFL, flags | O_NONBLOCK);
            fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        }
        return fds;
    }

    /// <summary>Sends one notification datagram to NOTIFY_SOCKET, if set. Returns false on failure.</summary>
    public static bool Notify(string message)
    {
        var path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path)) return false;
        var pathBytes = Encoding.UTF8.GetBytes(path);
        if (pathBytes.Length >= 108) return false;
        sockaddr_un addr = default;
        addr.sun_family = (ushort)AF_UNIX;
        for (int i = 0; i < pathBytes.Length; i++) addr.sun_path[i] = pathBytes[i];
        if (pathBytes[0] == (byte)'@') addr.sun_path[0] = 0;   // abstract namespace
        int length = sizeof(ushort) + pathBytes.Length + (pathBytes[0] == (byte)'@' ? 0 : 1);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        var payload = Encoding.UTF8.GetBytes(message);
        try
        {
            fixed (byte* p = payload)
            {
                return sendto(fd, p, (size_t)payload.Length, MSG_NOSIGNAL, (sockaddr*)&addr, (socklen_t)length) == payload.Length;
            }
        }
        finally
        {
            close(fd);
        }
    }
}

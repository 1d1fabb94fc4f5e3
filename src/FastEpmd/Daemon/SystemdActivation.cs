// systemd socket activation and readiness without libsystemd: LISTEN_FDS/LISTEN_PID give the
// listening sockets (and what the descriptor store kept) from fd 3 on, LISTEN_FDNAMES their names;
// NOTIFY_SOCKET takes plain datagrams (READY=1, STATUS=..., FDSTORE=1 with a descriptor).
using System.Text;
using FastEpmd.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Daemon;

internal static unsafe class SystemdActivation
{
    public const int FirstFd = 3;
    public const int MaxFds = 16;

    /// <summary>
    /// The descriptors systemd passed, split by LISTEN_FDNAMES: the socket unit's listeners (with
    /// their names, "metrics" among them) and what the descriptor store gave back ("state",
    /// "alive-*", or "stored" for one stored without a name). Null with an OTP-worded error when the
    /// listeners are missing or wrong; a stored descriptor is never an error here (InheritedRegistrations judges it).
    /// </summary>
    public static InheritedDescriptors? ListenFds(out string? error)
    {
        error = null;
        var pidText = Environment.GetEnvironmentVariable("LISTEN_PID");
        var fdsText = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (pidText is null || fdsText is null || !int.TryParse(pidText, out int pid) || pid != Environment.ProcessId
            || !int.TryParse(fdsText, out int count) || count <= 0)
        {
            error = "systemd provides no sockets";
            return null;
        }
        var names = (Environment.GetEnvironmentVariable("LISTEN_FDNAMES") ?? "").Split(':');
        var passed = new InheritedDescriptors();
        for (int i = 0; i < count; i++)
        {
            int fd = FirstFd + i;
            string name = i < names.Length ? names[i] : "";
            if (InheritedDescriptors.IsStoreName(name)) passed.Stored.Add((name, fd));
            else passed.Listeners.Add((fd, name));
        }
        if (passed.Listeners.Count == 0)
        {
            error = "systemd provides no sockets";
            return null;
        }
        if (passed.Listeners.Count > MaxFds)
        {
            error = "cannot listen on more than 16 IP addresses";
            return null;
        }
        foreach (var (fd, _) in passed.Listeners)
        {
            if (Interop.InheritedSocket.ListenerProblem(fd) is { } problem)
            {
                error = "cannot obtain sockets from systemd: " + problem;
                return null;
            }
            // Our reactor needs non-blocking listeners; systemd hands them over blocking.
            SocketIo.MakeNonBlocking(fd);
        }
        foreach (var (_, fd) in passed.Stored) fcntl(fd, F_SETFD, FD_CLOEXEC);
        return passed;
    }

    /// <summary>Sends one notification datagram to NOTIFY_SOCKET, if set. Returns false on failure.</summary>
    public static bool Notify(string message)
    {
        if (!TryNotifyAddress(out var addr, out int length)) return false;
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

    /// <summary>NOTIFY_SOCKET as an address ('@' is the abstract namespace); false when unset or too long.</summary>
    public static bool TryNotifyAddress(out sockaddr_un addr, out int length)
    {
        addr = default;
        length = 0;
        var path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path)) return false;
        var pathBytes = Encoding.UTF8.GetBytes(path);
        if (pathBytes.Length >= 108) return false;
        addr.sun_family = (ushort)AF_UNIX;
        for (int i = 0; i < pathBytes.Length; i++) addr.sun_path[i] = pathBytes[i];
        if (pathBytes[0] == (byte)'@') addr.sun_path[0] = 0;   // abstract namespace
        length = sizeof(ushort) + pathBytes.Length + (pathBytes[0] == (byte)'@' ? 0 : 1);
        return true;
    }
}

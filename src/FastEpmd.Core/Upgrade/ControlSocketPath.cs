// Where a daemon listens for -upgrade: a socket file in a directory only the daemon's user may
// enter, so that only a process of that user which also sees that mount (the daemon's own side:
// its host, its container) can reach it. An abstract name would belong to the network namespace
// instead, where an application sharing it (a sidecar's pod) could reach it. The file name holds
// the port, a hash of the -address list when one narrows it and, in a network namespace other
// than PID 1's (`ip netns exec`, which keeps the host's /run), that namespace's inode: daemons on
// one port in two such namespaces neither collide nor take over each other's listeners.
using System.Text;
using FastEpmd.Interop;
using Tmds.Linux;
using FastEpmd.Service;
using static Tmds.Linux.LibC;

namespace FastEpmd.Upgrade;

internal static unsafe class ControlSocketPath
{
    /// <summary>systemd's RuntimeDirectory= (the unit's run directory), when it set one.</summary>
    public const string SystemdVariable = "RUNTIME_DIRECTORY";

    /// <summary>
    /// The directory: systemd's RuntimeDirectory=, else /run/fastepmd for root, else
    /// $XDG_RUNTIME_DIR/fastepmd, else /tmp/fastepmd-UID (checked like the others before use).
    /// </summary>
    public static string Directory()
    {
        var systemd = Environment.GetEnvironmentVariable(SystemdVariable);
        if (!string.IsNullOrEmpty(systemd)) return systemd.Split(':')[0];
        uint uid = geteuid();
        if (uid == 0) return "/run/fastepmd";
        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(xdg) ? "/tmp/fastepmd-" + uid : xdg + "/fastepmd";
    }

    public static string For(EpmdOptions options) => System.IO.Path.Combine(Directory(), FileName(options));

    public static string FileName(EpmdOptions options)
    {
        var name = new StringBuilder("control-").Append(options.Port);
        if (options.LoopbackOnly) name.Append("-loopback");
        if (options.Addresses.Count > 0) name.Append('-').Append(Fnv1a(string.Join(",", options.Addresses)).ToString("x8"));
        if (OtherNetworkNamespace() is ulong inode) name.Append("-net").Append(inode);
        return name.Append(".sock").ToString();
    }

    /// <summary>The inode recent kernels give the initial network namespace (PROC_NET_INIT_INO).</summary>
    private const ulong InitialNetworkNamespace = 0xEFFFFFF9;

    /// <summary>
    /// The inode of this process's network namespace when it is not PID 1's; null when it is.
    /// Where PID 1's cannot be read (not root, or a PID 1 that no one may inspect), the kernel's
    /// fixed inode of the initial namespace stands in for it. The daemon and its -upgrade run
    /// alike, so they agree on the name either way.
    /// </summary>
    private static ulong? OtherNetworkNamespace()
    {
        stat own, init;
        fixed (byte* self = "/proc/self/ns/net\0"u8, first = "/proc/1/ns/net\0"u8)
        {
            if (LibC.stat(self, &own) != 0) return null;
            if (LibC.stat(first, &init) == 0) return own.st_ino == init.st_ino && own.st_dev == init.st_dev ? null : (ulong)own.st_ino;
        }
        return (ulong)own.st_ino == InitialNetworkNamespace ? null : (ulong)own.st_ino;
    }

    /// <summary>
    /// The listener at path, its directory made (0700) and checked private first: a directory,
    /// not a link, owned by us, with no access for group or others. A file left by a daemon that
    /// is gone (nobody accepts on it) is replaced. -errno, or -EPERM for a directory that is not
    /// private, with why in <paramref name="error"/>.
    /// </summary>
    public static int Listen(string path, out string error)
    {
        string directory = System.IO.Path.GetDirectoryName(path)!;
        if (!PrivateDirectory(directory, out error)) return -Errno.EPERM;
        int fd = UnixSocket.Listen(path);
        if (fd == -Errno.EADDRINUSE)
        {
            int probe = UnixSocket.Connect(path);
            if (probe >= 0)
            {
                SocketIo.Close(probe);
                error = "another daemon listens on " + path;
                return -Errno.EADDRINUSE;
            }
            UnixSocket.Unlink(path);
            fd = UnixSocket.Listen(path);
        }
        error = fd < 0 ? path + ": " + Errno.Describe(-fd) : "";
        return fd;
    }

    /// <summary>Makes the directory (mode 0700) if it is missing, and says whether it is private to us.</summary>
    public static bool PrivateDirectory(string directory, out string error)
    {
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        stat info;
        fixed (byte* p = bytes)
        {
            if (mkdir(p, 0x1C0) != 0 && Errno.Last != Errno.EEXIST)
            {
                error = "cannot make " + directory + ": " + Errno.Describe(Errno.Last);
                return false;
            }
            if (lstat(p, &info) != 0)
            {
                error = directory + ": " + Errno.Describe(Errno.Last);
                return false;
            }
        }
        uint mode = (uint)info.st_mode;
        if ((mode & 0xF000) != 0x4000)
        {
            error = directory + " is not a directory";
            return false;
        }
        if (info.st_uid != geteuid() || (mode & 0x3F) != 0)
        {
            error = $"{directory} is not private to uid {geteuid()} (owner {info.st_uid}, mode {Convert.ToString(mode & 0xFFF, 8)}; it must be 0700)";
            return false;
        }
        error = "";
        return true;
    }

    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619;
        return hash;
    }
}

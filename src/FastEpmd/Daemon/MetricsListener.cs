// The -metrics listener: opened from the option, or under -systemd taken from the inherited
// descriptors as the one LISTEN_FDNAMES names "metrics" (it is then not an epmd listener).
using FastEpmd.CommandLine;
using FastEpmd.Interop;
using FastEpmd.Service;

namespace FastEpmd.Daemon;

internal static class MetricsListener
{
    public const string SystemdName = "metrics";

    /// <summary>The metrics listener, or null when metrics are off; error says why it cannot be had.</summary>
    /// <param name="systemdNames">Under -systemd, each listener's LISTEN_FDNAMES name, in the same order.</param>
    public static (int Fd, string Description)? Take(EpmdOptions options, List<(int Fd, string Description)> listeners,
        List<string>? systemdNames, out string? error)
    {
        error = null;
        if (options.Systemd && systemdNames != null)
        {
            for (int i = 0; i < listeners.Count && i < systemdNames.Count; i++)
            {
                if (systemdNames[i] != SystemdName) continue;
                var taken = listeners[i];
                listeners.RemoveAt(i);
                if (listeners.Count == 0)
                {
                    error = "systemd provides no sockets";
                    SocketIo.Close(taken.Fd);
                    return null;
                }
                return taken;
            }
        }
        if (options.Metrics is null) return null;
        MetricsAddress.TryParse(options.Metrics, out var address, out ushort port);   // checked by OptionParser
        string where = address.IsIPv6 ? $"[{address}]:{port}" : $"{address}:{port}";
        int fd = Listener.Open(address, port);
        if (fd < 0)
        {
            error = $"failed to bind the metrics listener on {where}: {Errno.Describe(-fd)}";
            return null;
        }
        return (fd, where);
    }

    /// <summary>The product version for fastepmd_build_info: label-safe, else "unknown".</summary>
    public static string Version()
    {
        foreach (char c in BuildInfo.Version)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')) return "unknown";
        }
        return BuildInfo.Version.Length > 0 ? BuildInfo.Version : "unknown";
    }
}

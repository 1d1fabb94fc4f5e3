// Where a daemon listens for -upgrade: an abstract AF_UNIX name made of its port and, when -address
// narrows it, a hash of that list, so daemons on other ports or addresses never collide. Abstract
// names live in the network namespace, so a container's daemon has its own.
using System.Text;
using FastEpmd.Service;

namespace FastEpmd.Upgrade;

internal static class ControlSocketName
{
    public const string Prefix = "fastepmd-upgrade:";

    public static string For(EpmdOptions options)
    {
        var name = new StringBuilder(Prefix).Append(options.Port);
        if (options.LoopbackOnly) name.Append(":loopback");
        if (options.Addresses.Count > 0) name.Append(':').Append(Fnv1a(string.Join(",", options.Addresses)).ToString("x8"));
        return name.ToString();
    }

    private static uint Fnv1a(string text)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text)) hash = (hash ^ b) * 16777619;
        return hash;
    }
}

// What systemd passed at start, by name: the socket unit's listeners, and the descriptors its store
// kept for us (the state memfd and the ALIVE sockets, see SystemdStore).
using FastEpmd.Restart;

namespace FastEpmd.Daemon;

internal sealed class InheritedDescriptors
{
    /// <summary>systemd's name for a descriptor stored without FDNAME=.</summary>
    public const string UnnamedStored = "stored";

    /// <summary>The socket unit's descriptors in order, with their FileDescriptorName= (or the unit's name).</summary>
    public List<(int Fd, string Name)> Listeners { get; } = new();

    /// <summary>Descriptors from the store: "state", "alive-{key}", or "stored".</summary>
    public List<(string Name, int Fd)> Stored { get; } = new();

    public static bool IsStoreName(string name) =>
        name == StoreNames.State || name == UnnamedStored || name.StartsWith(StoreNames.AlivePrefix, StringComparison.Ordinal);
}

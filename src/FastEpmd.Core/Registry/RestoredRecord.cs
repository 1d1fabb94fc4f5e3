// One registry record as a state image holds it: what NodeRegistry.Restore puts back at its index.
namespace FastEpmd.Registry;

internal sealed class RestoredRecord
{
    /// <summary>Its index in the registry (and its slot in the image).</summary>
    public int Slot { get; init; }
    public NodeState State { get; init; }
    public byte NodeType { get; init; }
    public byte Protocol { get; init; }
    public ushort Port { get; init; }
    public ushort HighestVersion { get; init; }
    public ushort LowestVersion { get; init; }
    public uint Creation { get; init; }

    /// <summary>The descriptor the previous process had (DUMP prints it for remembered names).</summary>
    public int Fd { get; init; }

    /// <summary>The registration's key: its ALIVE descriptor is stored as "alive-{Key}".</summary>
    public ulong Key { get; init; }

    /// <summary>The registry's change counter at the record's last change: NAMES and remembered order.</summary>
    public ulong Sequence { get; init; }
    public byte[] Name { get; init; } = Array.Empty<byte>();
    public byte[] Extra { get; init; } = Array.Empty<byte>();
}

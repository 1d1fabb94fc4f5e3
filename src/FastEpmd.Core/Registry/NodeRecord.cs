// One node, registered or remembered. Name and extra live together in one ByteSlab block.
namespace FastEpmd.Registry;

internal struct NodeRecord
{
    public NodeState State;
    public byte NodeType;
    public byte Protocol;
    public byte SizeClass;
    public ushort Port;
    public ushort HighestVersion;
    public ushort LowestVersion;
    public ushort NameLength;
    public ushort ExtraLength;
    public int Block;
    public uint Creation;

    /// <summary>The descriptor the node last had (DUMP prints it, also for remembered names).</summary>
    public int Fd;

    /// <summary>The registering connection's token: only that connection may drop the record.</summary>
    public ulong Owner;

    /// <summary>This registration's own number, never reused (its stored ALIVE descriptor is "alive-{Key}").</summary>
    public ulong Key;

    /// <summary>The registry's change counter at this record's last change: what orders a restored registry.</summary>
    public ulong Sequence;

    // Registered: list newest first (NAMES order). Remembered: FIFO oldest first.
    public int Prev;
    public int Next;
}

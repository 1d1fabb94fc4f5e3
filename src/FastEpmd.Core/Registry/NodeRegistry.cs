// The names on this host: registration, lookup, unregistration and OTP's remembered names.
// Every operation is O(1) (hash index + intrusive lists); steady state allocates nothing.
namespace FastEpmd.Registry;

internal enum RegisterStatus
{
    Registered,

    /// <summary>The name is registered by a live owner; the owner is left untouched.</summary>
    Duplicate,
}

internal sealed partial class NodeRegistry
{
    /// <summary>OTP keeps at most about this many unregistered names (5 in debug mode).</summary>
    public const int DefaultRememberLimit = 1000;
    public const int DebugRememberLimit = 5;

    private NodeRecord[] _records;
    private readonly NameIndex _index;
    private readonly ByteSlab _slab = new();
    private int _used;
    private int _registeredHead = -1;    // newest registration
    private int _rememberedHead = -1;    // oldest remembered
    private int _rememberedTail = -1;    // newest remembered
    private ulong _lastKey;
    private ulong _lastSequence;
    private readonly Stack<int> _freeRecords = new();   // holes a restore left (slots it dropped)

    public NodeRegistry(int initialCapacity = 64, int rememberLimit = DefaultRememberLimit)
    {
        _records = new NodeRecord[Math.Max(4, initialCapacity)];
        _index = new NameIndex(initialCapacity, Name);
        RememberLimit = rememberLimit;
    }

    public int RememberLimit { get; }
    public int RegisteredCount { get; private set; }
    public int RememberedCount { get; private set; }

    /// <summary>Changes with every registration and unregistration (reply caches key on it).</summary>
    public long Version { get; private set; }

    public long ReservedBytes => (long)_records.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<NodeRecord>() + _slab.ReservedBytes;

    public ref readonly NodeRecord this[int record] => ref _records[record];

    /// <summary>Records in use or once used: a state image has one slot for each.</summary>
    public int RecordSlots => _used;

    public ReadOnlySpan<byte> Name(int record)
    {
        ref readonly var r = ref _records[record];
        return _slab.Block(r.Block, r.NameLength);
    }

    public ReadOnlySpan<byte> Extra(int record)
    {
        ref readonly var r = ref _records[record];
        return _slab.Block(r.Block, r.NameLength + r.ExtraLength).Slice(r.NameLength);
    }

    /// <summary>Newest registration first, as NAMES lists them; -1 when none.</summary>
    public int FirstRegistered => _registeredHead;

    /// <summary>Oldest remembered name first, as DUMP lists them; -1 when none.</summary>
    public int FirstRemembered => _rememberedHead;

    public int NextInList(int record) => _records[record].Next;

    /// <summary>The registered record with this exact name, or -1.</summary>
    public int FindRegistered(ReadOnlySpan<byte> name)
    {
        int record = _index.Find(name);
        return record >= 0 && _records[record].State == NodeState.Registered ? record : -1;
    }

    /// <summary>
    /// Registers a node. The caller has validated name and extra sizes. On Duplicate, record is
    /// the live owner's record, untouched.
    /// </summary>
    public RegisterStatus Register(ReadOnlySpan<byte> name, ReadOnlySpan<byte> extra, ushort port, byte nodeType,
        byte protocol, ushort highestVersion, ushort lowestVersion, ulong owner, int fd, long unixSeconds, out int record)
    {
        record = _index.Find(name);
        if (record >= 0)
        {
            ref var existing = ref _records[record];
            if (existing.State == NodeState.Registered) return RegisterStatus.Duplicate;
            // OTP: a remembered name comes back with the next creation.
            UnlinkRemembered(record);
            existing.Creation = CreationNumbers.Bump(existing.Creation);
            StoreBytes(record, name, extra);
        }
        else if (RememberedCount > RememberLimit)
        {
            // OTP takes over the oldest remembered record and keeps its creation unbumped.
            record = _rememberedHead;
            UnlinkRemembered(record);
            _index.Remove(record, Name(record));
            _index.Add(record, StoreBytes(record, name, extra));
        }
        else
        {
            record = NewRecord();
            _records[record].Creation = CreationNumbers.Fresh(unixSeconds);
            _index.Add(record, StoreBytes(record, name, extra));
        }

        ref var r = ref _records[record];
        r.State = NodeState.Registered;
        r.Port = port;
        r.NodeType = nodeType;
        r.Protocol = protocol;
        r.HighestVersion = highestVersion;
        r.LowestVersion = lowestVersion;
        r.Fd = fd;
        r.Owner = owner;
        r.Key = ++_lastKey;
        r.Sequence = ++_lastSequence;
        LinkRegistered(record);
        Version++;
        return RegisterStatus.Registered;
    }

    /// <summary>Moves a registered record to the remembered list (newest at the tail).</summary>
    public void Unregister(int record)
    {
        ref var r = ref _records[record];
        if (r.State != NodeState.Registered) throw new InvalidOperationException("record is not registered");
        if (r.Prev >= 0) _records[r.Prev].Next = r.Next;
        else _registeredHead = r.Next;
        if (r.Next >= 0) _records[r.Next].Prev = r.Prev;
        RegisteredCount--;

        r.State = NodeState.Remembered;
        r.Owner = 0;
        r.Sequence = ++_lastSequence;
        LinkRemembered(record);
        Version++;
    }

    private void UnlinkRemembered(int record)
    {
        ref var r = ref _records[record];
        if (r.Prev >= 0) _records[r.Prev].Next = r.Next;
        else _rememberedHead = r.Next;
        if (r.Next >= 0) _records[r.Next].Prev = r.Prev;
        else _rememberedTail = r.Prev;
        RememberedCount--;
    }

    private int NewRecord()
    {
        if (_freeRecords.Count > 0) return _freeRecords.Pop();
        if (_used == _records.Length) Array.Resize(ref _records, _records.Length * 2);
        int record = _used++;
        _records[record].Block = -1;
        return record;
    }

    /// <summary>Copies name and extra into the record's block, reusing it when the size class fits.</summary>
    private ReadOnlySpan<byte> StoreBytes(int record, ReadOnlySpan<byte> name, ReadOnlySpan<byte> extra)
    {
        ref var r = ref _records[record];
        int length = Math.Max(4, name.Length + extra.Length);
        if (r.Block < 0 || ByteSlab.CapacityOf(r.SizeClass) < length || ByteSlab.ClassOf(length) < r.SizeClass)
        {
            if (r.Block >= 0) _slab.Free(r.Block, r.SizeClass);
            r.Block = _slab.Allocate(length, out int sizeClass);
            r.SizeClass = (byte)sizeClass;
        }
        var block = _slab.Block(r.Block, name.Length + extra.Length);
        name.CopyTo(block);
        extra.CopyTo(block.Slice(name.Length));
        r.NameLength = (ushort)name.Length;
        r.ExtraLength = (ushort)extra.Length;
        return block.Slice(0, name.Length);
    }
}

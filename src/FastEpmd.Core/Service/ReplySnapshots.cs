// NAMES and DUMP replies, built once per registry version and shared by every connection sending
// them, in native pages under a byte budget. Alive: the current snapshot of each kind, the older
// ones still being sent, and at most one small spare. A finished older snapshot is unmapped, so its
// memory goes back to the kernel at once. Readers are counted by OutgoingReply only (Pin/Unpin).
using FastEpmd.Interop;

namespace FastEpmd.Service;

internal enum ReplyKind : byte
{
    Names,
    Dump,
}

internal sealed unsafe class ReplySnapshots : IDisposable
{
    /// <summary>Snapshots alive at once (the budget usually binds first; this bounds tiny ones).</summary>
    public const int MaxSnapshots = 1024;

    /// <summary>A freed snapshot up to this size is kept for the next build instead of unmapped.</summary>
    public const int SpareLimit = 64 * 1024;

    private struct Entry
    {
        public byte* Data;
        public long Mapped;
        public int Length;
        public int Readers;
        public long Version;
        public long Serial;
        public ReplyKind Kind;
        public bool InUse;
    }

    private readonly Entry[] _entries = new Entry[MaxSnapshots + 1];   // id 0 is "none"
    private readonly int[] _current = { 0, 0 };
    private byte* _spare;
    private long _spareMapped;
    private long _serial;

    public ReplySnapshots(long budgetBytes) => BudgetBytes = budgetBytes;

    public long BudgetBytes { get; }

    /// <summary>Bytes mapped for snapshots, the spare included.</summary>
    public long MappedBytes { get; private set; }

    public int Count { get; private set; }

    /// <summary>-reply_memory_mb, raised to two NAMES replies of a table full of registrations.</summary>
    public static long BudgetFor(int replyMemoryMb, int maxRegistrations) =>
        Math.Max((long)replyMemoryMb << 20, 2 * NativePages.RoundUp(Wire.NamesReply.HeaderLength + (long)maxRegistrations * Wire.NamesReply.MaxNamesLineLength));

    /// <summary>The current snapshot of a kind if it shows this registry version, else 0.</summary>
    public int Current(ReplyKind kind, long version)
    {
        int id = _current[(int)kind];
        return id != 0 && _entries[id].Version == version ? id : 0;
    }

    public ReadOnlySpan<byte> Bytes(int id) => new(_entries[id].Data, _entries[id].Length);

    public int Readers(int id) => _entries[id].Readers;

    public void Pin(int id) => _entries[id].Readers++;

    public void Unpin(int id)
    {
        ref var e = ref _entries[id];
        e.Readers--;
        if (e.Readers == 0 && _current[(int)e.Kind] != id) Drop(id);
    }

    /// <summary>
    /// Room for a new snapshot of <paramref name="bytes"/> to replace the current one of a kind: 0
    /// when it fits (an idle current snapshot counts as free), else the id of the oldest snapshot
    /// still being sent, whose readers must be closed first; -1 when nothing can make room.
    /// </summary>
    public int MakeRoom(ReplyKind kind, long bytes)
    {
        long need = NativePages.RoundUp(bytes);
        long free = BudgetBytes - MappedBytes + _spareMapped;
        int current = _current[(int)kind];
        if (current != 0 && _entries[current].Readers == 0) free += _entries[current].Mapped;
        if (need <= free && (Count < MaxSnapshots || (current != 0 && _entries[current].Readers == 0))) return 0;
        int oldest = 0;
        for (int id = 1; id <= MaxSnapshots; id++)
        {
            ref var e = ref _entries[id];
            if (e.InUse && e.Readers > 0 && (oldest == 0 || e.Serial < _entries[oldest].Serial)) oldest = id;
        }
        return oldest == 0 ? -1 : oldest;
    }

    /// <summary>
    /// Writable memory of at least <paramref name="bytes"/> for the new current snapshot of a kind
    /// (after MakeRoom said 0), or 0 when the kernel has no memory. The old current one is dropped
    /// now if nobody is sending it, else when its last reader is done.
    /// </summary>
    public int StartBuild(ReplyKind kind, long bytes, out Span<byte> buffer)
    {
        buffer = default;
        int old = _current[(int)kind];
        _current[(int)kind] = 0;
        if (old != 0 && _entries[old].Readers == 0)
        {
            ref var o = ref _entries[old];
            if (o.Mapped >= bytes)
            {
                // Nobody is sending it: rebuilt in place.
                _current[(int)kind] = old;
                o.Version = -1;
                o.Serial = ++_serial;
                buffer = new Span<byte>(o.Data, (int)bytes);
                return old;
            }
            Drop(old);
        }
        int id = FreeId();
        if (id == 0) return 0;
        long need = NativePages.RoundUp(bytes);
        byte* data;
        if (_spare != null && _spareMapped >= need)
        {
            data = _spare;
            need = _spareMapped;
            _spare = null;
            _spareMapped = 0;
        }
        else
        {
            DropSpare();   // MakeRoom counted it as free
            data = NativePages.Map(need);
            if (data == null) return 0;
            MappedBytes += need;
        }
        ref var e = ref _entries[id];
        e = new Entry { Data = data, Mapped = need, Version = -1, Serial = ++_serial, Kind = kind, InUse = true };
        Count++;
        _current[(int)kind] = id;
        buffer = new Span<byte>(data, (int)bytes);
        return id;
    }

    public void FinishBuild(int id, int length, long version)
    {
        _entries[id].Length = length;
        _entries[id].Version = version;
    }

    private void DropSpare()
    {
        if (_spare == null) return;
        NativePages.Unmap(_spare, _spareMapped);
        MappedBytes -= _spareMapped;
        _spare = null;
        _spareMapped = 0;
    }

    private int FreeId()
    {
        for (int id = 1; id <= MaxSnapshots; id++)
        {
            if (!_entries[id].InUse) return id;
        }
        return 0;
    }

    private void Drop(int id)
    {
        ref var e = ref _entries[id];
        if (_spare == null && e.Mapped <= SpareLimit)
        {
            _spare = e.Data;
            _spareMapped = e.Mapped;
        }
        else
        {
            NativePages.Unmap(e.Data, e.Mapped);
            MappedBytes -= e.Mapped;
        }
        e = default;
        Count--;
    }

    public void Dispose()
    {
        for (int id = 1; id <= MaxSnapshots; id++)
        {
            if (_entries[id].InUse) NativePages.Unmap(_entries[id].Data, _entries[id].Mapped);
            _entries[id] = default;
        }
        DropSpare();
        MappedBytes = 0;
        Count = 0;
    }
}

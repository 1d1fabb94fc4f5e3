// Name -> record index: open addressing with linear probing and backward-shift deletion, keyed
// by the name's UTF-8 bytes. No strings, no scan of all nodes. The hash is HashCode's, seeded
// per process, so a client cannot aim collisions at it. The entries live in native pages (outside
// the GC heap) and double when half full; a registration reserves its entry before it changes
// anything, so a refused mapping refuses that registration only.
namespace FastEpmd.Registry;

internal sealed unsafe class NameIndex
{

    // Record index + 1 (0 = empty) beside its hash: one cache line per probe, which is what a
    // lookup among a million names waits on.
    private Entry* _entries;
    private int _capacity;                   // 0 until the first name, then a power of two
    private int _count;
    private readonly NameOf _nameOf;
    private readonly RegistryMemory _memory;
    private readonly int _minCapacity;

    /// <param name="minCapacity">Entries of the first mapping, a power of two (512: one page).</param>
    public NameIndex(RegistryMemory memory, NameOf nameOf, int minCapacity = 512)
    {
        _memory = memory;
        _nameOf = nameOf;
        _minCapacity = minCapacity;
    }

    public delegate ReadOnlySpan<byte> NameOf(int record);

    public int Count => _count;

    public long ReservedBytes => (long)_capacity * sizeof(Entry);

    public static int Hash(ReadOnlySpan<byte> name)
    {
        var h = new HashCode();
        h.AddBytes(name);
        return h.ToHashCode();
    }

    /// <summary>The record holding this name, or -1.</summary>
    public int Find(ReadOnlySpan<byte> name)
    {
        if (_capacity == 0) return -1;
        int hash = Hash(name);
        int mask = _capacity - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            var e = _entries[i];
            if (e.Record == 0) return -1;
            if (e.Hash == hash && _nameOf(e.Record - 1).SequenceEqual(name)) return e.Record - 1;
        }
    }

    /// <summary>Makes room for count names (at most half full); false, with nothing changed, when memory is refused.</summary>
    public bool TryReserve(int count)
    {
        if (_capacity != 0 && (long)count * 2 <= _capacity) return true;
        long capacity = Math.Max(_capacity, _minCapacity);
        while (count * 2L > capacity) capacity <<= 1;
        if (capacity > int.MaxValue / 2) return false;
        var entries = (Entry*)_memory.Map(capacity * sizeof(Entry));
        if (entries == null) return false;
        var old = _entries;
        int oldCapacity = _capacity;
        _entries = entries;
        _capacity = (int)capacity;
        for (int i = 0; i < oldCapacity; i++)
        {
            if (old[i].Record != 0) Insert(old[i].Record - 1, old[i].Hash);
        }
        _memory.Unmap((byte*)old, (long)oldCapacity * sizeof(Entry));
        return true;
    }

    /// <summary>Adds a record whose name is not in the index yet (Register reserved room for it first).</summary>
    public void Add(int record, ReadOnlySpan<byte> name)
    {
        if (!TryReserve(_count + 1)) throw new InsufficientMemoryException("no memory for the name index");
        Insert(record, Hash(name));
        _count++;
    }

    public void Remove(int record, ReadOnlySpan<byte> name)
    {
        if (_capacity == 0) throw new InvalidOperationException("record not in index");
        int mask = _capacity - 1;
        int i = Hash(name) & mask;
        while (_entries[i].Record != record + 1)
        {
            if (_entries[i].Record == 0) throw new InvalidOperationException("record not in index");
            i = (i + 1) & mask;
        }
        // Backward-shift: move later members of the probe run into the hole, so no tombstones.
        int hole = i;
        for (int j = (hole + 1) & mask; _entries[j].Record != 0; j = (j + 1) & mask)
        {
            int home = _entries[j].Hash & mask;
            bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (!movable) continue;
            _entries[hole] = _entries[j];
            hole = j;
        }
        _entries[hole] = default;
        _count--;
    }

    private void Insert(int record, int hash)
    {
        int mask = _capacity - 1;
        int i = hash & mask;
        while (_entries[i].Record != 0) i = (i + 1) & mask;
        _entries[i] = new Entry { Record = record + 1, Hash = hash };
    }

    ~NameIndex() => _memory.Unmap((byte*)_entries, (long)_capacity * sizeof(Entry));

    private struct Entry
    {
        public int Record;
        public int Hash;
    }
}

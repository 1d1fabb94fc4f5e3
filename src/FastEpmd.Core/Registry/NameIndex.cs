// Name -> record index: open addressing with linear probing and backward-shift deletion, keyed
// by the name's UTF-8 bytes. No strings, no scan of all nodes. The hash is HashCode's, seeded
// per process, so a client cannot aim collisions at it.
namespace FastEpmd.Registry;

internal sealed class NameIndex
{
    // Record index + 1 (0 = empty) beside its hash: one cache line per probe, which is what a
    // lookup among a million names waits on.
    private Entry[] _entries;
    private int _count;
    private readonly NameOf _nameOf;

    public NameIndex(int initialCapacity, NameOf nameOf)
    {
        int capacity = 16;
        while (capacity < initialCapacity * 2) capacity <<= 1;
        _entries = new Entry[capacity];
        _nameOf = nameOf;
    }

    public delegate ReadOnlySpan<byte> NameOf(int record);

    public int Count => _count;

    public static int Hash(ReadOnlySpan<byte> name)
    {
        var h = new HashCode();
        h.AddBytes(name);
        return h.ToHashCode();
    }

    /// <summary>The record holding this name, or -1.</summary>
    public int Find(ReadOnlySpan<byte> name)
    {
        int hash = Hash(name);
        int mask = _entries.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            var e = _entries[i];
            if (e.Record == 0) return -1;
            if (e.Hash == hash && _nameOf(e.Record - 1).SequenceEqual(name)) return e.Record - 1;
        }
    }

    /// <summary>Adds a record whose name is not in the index yet.</summary>
    public void Add(int record, ReadOnlySpan<byte> name)
    {
        if ((_count + 1) * 2 > _entries.Length) Grow();
        Insert(record, Hash(name));
        _count++;
    }

    public void Remove(int record, ReadOnlySpan<byte> name)
    {
        int mask = _entries.Length - 1;
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
        int mask = _entries.Length - 1;
        int i = hash & mask;
        while (_entries[i].Record != 0) i = (i + 1) & mask;
        _entries[i] = new Entry { Record = record + 1, Hash = hash };
    }

    private void Grow()
    {
        var old = _entries;
        _entries = new Entry[old.Length * 2];
        foreach (var e in old)
        {
            if (e.Record != 0) Insert(e.Record - 1, e.Hash);
        }
    }

    private struct Entry
    {
        public int Record;
        public int Hash;
    }
}

// Name -> record index: open addressing with linear probing and backward-shift deletion, keyed
// by the name's UTF-8 bytes. No strings, no scan of all nodes. The hash is HashCode's, seeded
// per process, so a client cannot aim collisions at it.
namespace FastEpmd.Registry;

internal sealed class NameIndex
{
    private int[] _records;   // record index + 1; 0 = empty
    private int[] _hashes;
    private int _count;
    private readonly NameOf _nameOf;

    public NameIndex(int initialCapacity, NameOf nameOf)
    {
        int capacity = 16;
        while (capacity < initialCapacity * 2) capacity <<= 1;
        _records = new int[capacity];
        _hashes = new int[capacity];
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
        int mask = _records.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            int r = _records[i];
            if (r == 0) return -1;
            if (_hashes[i] == hash && _nameOf(r - 1).SequenceEqual(name)) return r - 1;
        }
    }

    /// <summary>Adds a record whose name is not in the index yet.</summary>
    public void Add(int record, ReadOnlySpan<byte> name)
    {
        if ((_count + 1) * 2 > _records.Length) Grow();
        Insert(record, Hash(name));
        _count++;
    }

    public void Remove(int record, ReadOnlySpan<byte> name)
    {
        int mask = _records.Length - 1;
        int i = Hash(name) & mask;
        while (_records[i] != record + 1)
        {
            if (_records[i] == 0) throw new InvalidOperationException("record not in index");
            i = (i + 1) & mask;
        }
        // Backward-shift: move later members of the probe run into the hole, so no tombstones.
        int hole = i;
        for (int j = (hole + 1) & mask; _records[j] != 0; j = (j + 1) & mask)
        {
            int home = _hashes[j] & mask;
            bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (!movable) continue;
            _records[hole] = _records[j];
            _hashes[hole] = _hashes[j];
            hole = j;
        }
        _records[hole] = 0;
        _count--;
    }

    private void Insert(int record, int hash)
    {
        int mask = _records.Length - 1;
        int i = hash & mask;
        while (_records[i] != 0) i = (i + 1) & mask;
        _records[i] = record + 1;
        _hashes[i] = hash;
    }

    private void Grow()
    {
        var oldRecords = _records;
        var oldHashes = _hashes;
        _records = new int[oldRecords.Length * 2];
        _hashes = new int[oldRecords.Length * 2];
        for (int i = 0; i < oldRecords.Length; i++)
        {
            if (oldRecords[i] != 0) Insert(oldRecords[i] - 1, oldHashes[i]);
        }
    }
}

// Rebuilding a registry from a state image, without replaying registrations: every record goes back
// to its own index with its creation, key and sequence; NAMES order (newest registration first) and
// the remembered FIFO come back from the sequences. Restored registrations have no owner until the
// service adopts each one onto a live connection (or drops it).
namespace FastEpmd.Registry;

internal sealed partial class NodeRegistry
{
    /// <summary>Fills an empty registry with restored records (a decoded image's).</summary>
    public void Restore(int slotCount, IReadOnlyList<RestoredRecord> records)
    {
        if (_used != 0) throw new InvalidOperationException("restore needs an empty registry");
        int slots = slotCount;
        foreach (var restored in records) slots = Math.Max(slots, restored.Slot + 1);
        if (!_records.TryEnsure(slots)) throw new InsufficientMemoryException($"no memory for {slots} node records");
        _used = slots;
        for (int i = 0; i < slots; i++) _records[i] = new NodeRecord { State = NodeState.Free, Block = -1, Prev = -1, Next = -1 };

        foreach (var restored in records)
        {
            int record = restored.Slot;
            ref var r = ref _records[record];
            r.State = restored.State;
            r.NodeType = restored.NodeType;
            r.Protocol = restored.Protocol;
            r.Port = restored.Port;
            r.HighestVersion = restored.HighestVersion;
            r.LowestVersion = restored.LowestVersion;
            r.Creation = restored.Creation;
            r.Fd = restored.Fd;
            r.Key = restored.Key;
            r.Sequence = restored.Sequence;
            r.Owner = 0;
            _index.Add(record, StoreBytes(record, restored.Name, restored.Extra));
            _lastKey = Math.Max(_lastKey, restored.Key);
            _lastSequence = Math.Max(_lastSequence, restored.Sequence);
        }

        var bySequence = new List<RestoredRecord>(records);
        bySequence.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
        foreach (var restored in bySequence)
        {
            int record = restored.Slot;
            ref var r = ref _records[record];
            // Oldest first, as Register and Unregister linked them: the newest registration ends
            // at the head, the newest remembered name at the tail.
            if (r.State == NodeState.Registered) LinkRegistered(record);
            else LinkRemembered(record);
        }
        // Holes (dropped or never used slots) are reused lowest first.
        for (int i = slots - 1; i >= 0; i--)
        {
            if (_records[i].State == NodeState.Free) _freeRecords.Push(i);
        }
        Version++;
    }

    /// <summary>A restored registration now belongs to a live connection.</summary>
    public void Adopt(int record, ulong owner, int fd)
    {
        ref var r = ref _records[record];
        if (r.State != NodeState.Registered || r.Owner != 0) throw new InvalidOperationException("record is not a restored registration");
        r.Owner = owner;
        r.Fd = fd;
        Version++;
    }

    /// <summary>New keys start above this one (a stored descriptor may name a key no slot holds any more).</summary>
    public void ReserveKeysThrough(ulong key) => _lastKey = Math.Max(_lastKey, key);
}

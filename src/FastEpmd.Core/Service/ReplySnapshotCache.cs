// One cached snapshot per reply kind, plus a pool of spares for rebuilds while one is pinned.
namespace FastEpmd.Service;

internal sealed class ReplySnapshotCache
{
    private ReplySnapshot _current;

    public ReplySnapshotCache() => _current = new ReplySnapshot(this);
    private readonly Stack<ReplySnapshot> _spares = new();

    /// <summary>The snapshot for this version, or null when it must be built (see Rebuild).</summary>
    public ReplySnapshot? TryGet(long version) => _current.Version == version ? _current : null;

    /// <summary>A snapshot to build into: the current one if nobody is sending it, else a spare.</summary>
    public ReplySnapshot StartRebuild()
    {
        if (_current.Pins > 0)
        {
            _current = _spares.Count > 0 ? _spares.Pop() : new ReplySnapshot(this);
        }
        _current.Version = -1;
        _current.Length = 0;
        return _current;
    }

    /// <summary>Called when a connection stops sending a snapshot.</summary>
    public void Release(ReplySnapshot snapshot)
    {
        snapshot.Pins--;
        if (snapshot.Pins == 0 && !ReferenceEquals(snapshot, _current)) _spares.Push(snapshot);
    }
}

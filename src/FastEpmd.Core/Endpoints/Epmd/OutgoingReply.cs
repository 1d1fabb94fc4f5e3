// A connection's reply in flight, and the one owner of where its bytes live: the loop's shared
// scratch (written at once, the usual case), a pooled spill block (the socket took only part of a
// small reply), or a shared NAMES/DUMP snapshot (pinned while it is sent). Release gives back
// whatever it holds; nothing else touches the spill block or the snapshot's reader count.
using FastEpmd.Service;

namespace FastEpmd.Endpoints.Epmd;

internal enum ReplySource : byte
{
    None,
    Scratch,
    Spill,
    Snapshot,
}

internal unsafe struct OutgoingReply
{
    private byte* _spill;
    private int _snapshot;
    public int Offset;
    public int Length;
    public ReplySource Source;

    public readonly bool Done => Offset >= Length;

    public readonly int Snapshot => Source == ReplySource.Snapshot ? _snapshot : 0;

    public void FromScratch(int length)
    {
        Source = ReplySource.Scratch;
        Offset = 0;
        Length = length;
    }

    public void FromSnapshot(ReplySnapshots snapshots, int id)
    {
        snapshots.Pin(id);
        _snapshot = id;
        Source = ReplySource.Snapshot;
        Offset = 0;
        Length = snapshots.Bytes(id).Length;
    }

    /// <summary>The bytes still to send.</summary>
    public readonly ReadOnlySpan<byte> Pending(ReadOnlySpan<byte> scratch, ReplySnapshots snapshots) => Source switch
    {
        ReplySource.Scratch => scratch[Offset..Length],
        ReplySource.Spill => new ReadOnlySpan<byte>(_spill + Offset, Length - Offset),
        ReplySource.Snapshot => snapshots.Bytes(_snapshot)[Offset..Length],
        _ => default,
    };

    /// <summary>
    /// The socket is full: a reply still in the shared scratch moves its unsent tail into a spill
    /// block (the scratch serves the next request). False when no block could be had.
    /// </summary>
    public bool KeepUnsent(ReadOnlySpan<byte> scratch, BlockPool spills)
    {
        if (Source != ReplySource.Scratch) return true;
        byte* block = spills.Take();
        if (block == null) return false;
        int rest = Length - Offset;
        scratch[Offset..Length].CopyTo(new Span<byte>(block, spills.BlockSize));
        _spill = block;
        Source = ReplySource.Spill;
        Offset = 0;
        Length = rest;
        return true;
    }

    public void Release(ReplySnapshots snapshots, BlockPool spills)
    {
        if (Source == ReplySource.Spill) spills.Return(_spill);
        else if (Source == ReplySource.Snapshot) snapshots.Unpin(_snapshot);
        _spill = null;
        _snapshot = 0;
        Source = ReplySource.None;
        Offset = Length = 0;
    }
}

// A NAMES or DUMP reply built once per registry version and shared by every connection sending
// it. A slow reader pins its snapshot; a rebuild then takes another buffer instead of rewriting
// bytes still being sent.
namespace FastEpmd.Service;

internal sealed class ReplySnapshot(ReplySnapshotCache cache)
{
    public ReplySnapshotCache Cache { get; } = cache;
    public byte[] Buffer = new byte[4096];
    public int Length;
    public long Version = -1;
    public int Pins;

    public ReadOnlySpan<byte> Bytes => Buffer.AsSpan(0, Length);

    public void EnsureCapacity(int bytes)
    {
        // Grown mid-build: the header and lines written so far must come along.
        if (Buffer.Length < bytes) Array.Resize(ref Buffer, Math.Max(bytes, Buffer.Length * 2));
    }
}

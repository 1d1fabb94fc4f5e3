// The node records, an array in native chunks of 1,024 (64 KiB) mapped as the table fills: a record
// never moves, so a ref to it stays valid, and the GC heap holds only the chunk directory.
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace FastEpmd.Registry;

internal sealed unsafe class NodeRecords
{
    private const int ChunkShift = 10;
    private const int ChunkMask = (1 << ChunkShift) - 1;

    /// <summary>4,194,304 records: more than any table (a record needs a connection, or is one of 1,000 remembered).</summary>
    public const int MaxChunks = 4096;

    private readonly nint[] _chunks = new nint[MaxChunks];
    private readonly RegistryMemory _memory;
    private int _chunkCount;

    public NodeRecords(RegistryMemory memory) => _memory = memory;

    private static long ChunkBytes => (long)Unsafe.SizeOf<NodeRecord>() << ChunkShift;

    public int Capacity => _chunkCount << ChunkShift;

    public long ReservedBytes => _chunkCount * ChunkBytes;

    public ref NodeRecord this[int record]
    {
        get
        {
            Debug.Assert((uint)record < (uint)Capacity, "record out of range");
            return ref ((NodeRecord*)_chunks[record >> ChunkShift])[record & ChunkMask];
        }
    }

    /// <summary>Maps chunks until count records fit; false (nothing else changed) when memory is refused.</summary>
    public bool TryEnsure(int count)
    {
        while (Capacity < count)
        {
            if (_chunkCount == MaxChunks) return false;
            byte* chunk = _memory.Map(ChunkBytes);
            if (chunk == null) return false;
            _chunks[_chunkCount++] = (nint)chunk;
        }
        return true;
    }

    ~NodeRecords()
    {
        for (int i = 0; i < _chunkCount; i++) _memory.Unmap((byte*)_chunks[i], ChunkBytes);
    }
}

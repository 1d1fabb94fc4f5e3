// Storage for node names and extras, outside the GC heap: power-of-two blocks (16 B to 4 KiB)
// carved from 1 MiB chunks of native pages mapped as they are needed, with a free list per size.
// Churn reuses freed blocks, so steady-state registration allocates nothing; a page is resident
// only once a block in it has been written. The largest registration (a 1,020-byte name and a
// 1,020-byte extra) takes a 2 KiB block.
using System.Buffers.Binary;

namespace FastEpmd.Registry;

internal sealed unsafe class ByteSlab
{
    private const int ChunkShift = 20;
    private const int ChunkSize = 1 << ChunkShift;
    private const int MinClassShift = 4;     // 16-byte blocks
    private const int MaxClassShift = 12;    // 4096: name (1020) + extra (1020) fits
    private const int ClassCount = MaxClassShift - MinClassShift + 1;

    /// <summary>2 GiB of blocks: a handle (chunk << 20 | offset) stays a positive int.</summary>
    public const int MaxChunks = 2048;

    private readonly nint[] _chunks = new nint[MaxChunks];
    private readonly RegistryMemory _memory;
    private int _chunkCount;
    private int _chunkUsed = ChunkSize;      // forces a first chunk on first use
    private readonly int[] _freeHeads = new int[ClassCount];

    public ByteSlab(RegistryMemory memory)
    {
        _memory = memory;
        Array.Fill(_freeHeads, -1);
    }

    /// <summary>Bytes mapped for blocks (for memory reporting).</summary>
    public long ReservedBytes => (long)_chunkCount * ChunkSize;

    public static int ClassOf(int length)
    {
        int shift = MinClassShift;
        while ((1 << shift) < length) shift++;
        return shift - MinClassShift;
    }

    public static int CapacityOf(int sizeClass) => 1 << (sizeClass + MinClassShift);

    /// <summary>
    /// A handle to a block of at least length bytes (at most 4096), or -1 when the memory for a new
    /// chunk is refused (nothing is changed then).
    /// </summary>
    public int Allocate(int length, out int sizeClass)
    {
        sizeClass = ClassOf(length);
        int head = _freeHeads[sizeClass];
        if (head >= 0)
        {
            // A free block stores the handle of the next free block in its first 4 bytes.
            _freeHeads[sizeClass] = BinaryPrimitives.ReadInt32LittleEndian(Block(head, 4));
            return head;
        }
        int size = CapacityOf(sizeClass);
        if (_chunkUsed + size > ChunkSize)
        {
            if (_chunkCount == MaxChunks) return -1;
            byte* chunk = _memory.Map(ChunkSize);
            if (chunk == null) return -1;
            _chunks[_chunkCount++] = (nint)chunk;
            _chunkUsed = 0;
        }
        int handle = ((_chunkCount - 1) << ChunkShift) | _chunkUsed;
        _chunkUsed += size;
        return handle;
    }

    public void Free(int handle, int sizeClass)
    {
        BinaryPrimitives.WriteInt32LittleEndian(Block(handle, 4), _freeHeads[sizeClass]);
        _freeHeads[sizeClass] = handle;
    }

    public Span<byte> Block(int handle, int length) =>
        new((byte*)_chunks[handle >> ChunkShift] + (handle & (ChunkSize - 1)), length);

    ~ByteSlab()
    {
        for (int i = 0; i < _chunkCount; i++) _memory.Unmap((byte*)_chunks[i], ChunkSize);
    }
}

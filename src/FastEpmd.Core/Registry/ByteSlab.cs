// Storage for node names and extras: power-of-two blocks carved from 64 KiB pages, with a free
// list per size. Churn reuses freed blocks, so steady-state registration allocates nothing.
namespace FastEpmd.Registry;

internal sealed class ByteSlab
{
    private const int PageShift = 16;
    private const int PageSize = 1 << PageShift;
    private const int MinClassShift = 4;     // 16-byte blocks
    private const int MaxClassShift = 12;    // 4096: name (1020) + extra (1020) fits
    private const int ClassCount = MaxClassShift - MinClassShift + 1;

    private byte[][] _pages = new byte[4][];
    private int _pageCount;
    private int _pageUsed = PageSize;        // forces a first page on first use
    private readonly int[] _freeHeads = new int[ClassCount];

    public ByteSlab() => Array.Fill(_freeHeads, -1);

    /// <summary>Bytes held by pages (for memory reporting).</summary>
    public long ReservedBytes => (long)_pageCount * PageSize;

    public static int ClassOf(int length)
    {
        int shift = MinClassShift;
        while ((1 << shift) < length) shift++;
        return shift - MinClassShift;
    }

    public static int CapacityOf(int sizeClass) => 1 << (sizeClass + MinClassShift);

    /// <summary>Returns a handle to a block of at least length bytes (length at most 4096).</summary>
    public int Allocate(int length, out int sizeClass)
    {
        sizeClass = ClassOf(length);
        int head = _freeHeads[sizeClass];
        if (head >= 0)
        {
            // A free block stores the handle of the next free block in its first 4 bytes.
            _freeHeads[sizeClass] = BitConverter.ToInt32(Block(head, 4));
            return head;
        }
        int size = CapacityOf(sizeClass);
        if (_pageUsed + size > PageSize)
        {
            if (_pageCount == _pages.Length) Array.Resize(ref _pages, _pages.Length * 2);
            _pages[_pageCount++] = new byte[PageSize];
            _pageUsed = 0;
        }
        int handle = ((_pageCount - 1) << PageShift) | _pageUsed;
        _pageUsed += size;
        return handle;
    }

    public void Free(int handle, int sizeClass)
    {
        BitConverter.TryWriteBytes(Block(handle, 4), _freeHeads[sizeClass]);
        _freeHeads[sizeClass] = handle;
    }

    public Span<byte> Block(int handle, int length) =>
        _pages[handle >> PageShift].AsSpan(handle & (PageSize - 1), length);
}

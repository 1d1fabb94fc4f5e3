// Fixed-size native blocks taken only when a connection needs one (a split request, a reply the
// socket did not take at once) and given back when it is done, so an idle table costs no buffers.
using System.Runtime.InteropServices;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe class BlockPool : IDisposable
{
    private readonly nint[] _free;
    private int _freeCount;

    /// <param name="keepFree">Returned blocks kept for reuse; beyond that they are freed.</param>
    public BlockPool(int blockSize, int keepFree)
    {
        BlockSize = blockSize;
        _free = new nint[keepFree];
    }

    public int BlockSize { get; }

    /// <summary>Blocks handed out and not yet returned.</summary>
    public int InUse { get; private set; }

    /// <summary>A block, or null when there is no memory (the caller sheds what needed it).</summary>
    public byte* Take()
    {
        byte* block;
        if (_freeCount > 0)
        {
            block = (byte*)_free[--_freeCount];
        }
        else
        {
            try
            {
                block = (byte*)NativeMemory.Alloc((nuint)BlockSize);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }
        }
        InUse++;
        return block;
    }

    public void Return(byte* block)
    {
        if (block == null) return;
        InUse--;
        if (_freeCount < _free.Length) _free[_freeCount++] = (nint)block;
        else NativeMemory.Free(block);
    }

    public void Dispose()
    {
        while (_freeCount > 0) NativeMemory.Free((void*)_free[--_freeCount]);
    }
}

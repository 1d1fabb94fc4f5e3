// The metrics listener's connections, apart from the epmd table so a scraper or a flood on the
// metrics port can never take an epmd client's slot. Few slots, each with one buffer that holds
// the request and then the response, allocated once in native memory (not resident until used).
using System.Runtime.InteropServices;

namespace FastEpmd.Reactor;

internal struct MetricsConnection
{
    public int Fd;
    public uint Generation;
    public bool InUse;
    public bool Writing;
    public bool InPoller;
    public bool WatchingWrite;
    public int InCount;
    public int OutOffset;
    public int OutLength;

    /// <summary>When the whole exchange (request read, response written) must be over.</summary>
    public long DeadlineMs;
}

internal sealed unsafe class MetricsConnectionTable : IDisposable
{
    /// <summary>A scraper or two, a probe, an operator's curl: more at once is a flood.</summary>
    public const int DefaultCapacity = 16;

    /// <summary>A request's headers (with one byte to see "over the limit") or a whole response.</summary>
    public const int BufferSize = 32768;

    private readonly MetricsConnection[] _slots;
    private readonly byte* _buffers;

    public MetricsConnectionTable(int capacity = DefaultCapacity)
    {
        _slots = new MetricsConnection[capacity];
        _buffers = (byte*)NativeMemory.AllocZeroed((nuint)capacity, BufferSize);
    }

    public int Capacity => _slots.Length;
    public int Count { get; private set; }

    public ref MetricsConnection this[int slot] => ref _slots[slot];

    public Span<byte> Buffer(int slot) => new(_buffers + (long)slot * BufferSize, BufferSize);

    public ulong TokenOf(int slot) => PollToken.Make(TokenKind.Metrics, slot, _slots[slot].Generation);

    public int Resolve(ulong token)
    {
        int slot = PollToken.IndexOf(token);
        if ((uint)slot >= (uint)_slots.Length) return -1;
        ref var c = ref _slots[slot];
        return c.InUse && c.Generation == PollToken.GenerationOf(token) ? slot : -1;
    }

    /// <summary>A free slot for fd, or -1 when every slot is taken.</summary>
    public int Allocate(int fd, long deadlineMs)
    {
        for (int slot = 0; slot < _slots.Length; slot++)
        {
            ref var c = ref _slots[slot];
            if (c.InUse) continue;
            uint generation = (c.Generation + 1) & PollToken.GenerationMask;
            c = default;
            c.Generation = generation;
            c.Fd = fd;
            c.InUse = true;
            c.DeadlineMs = deadlineMs;
            Count++;
            return slot;
        }
        return -1;
    }

    /// <summary>The slot whose deadline comes first (the oldest, as every deadline has one length), or -1.</summary>
    public int Oldest()
    {
        int oldest = -1;
        for (int slot = 0; slot < _slots.Length; slot++)
        {
            if (_slots[slot].InUse && (oldest < 0 || _slots[slot].DeadlineMs < _slots[oldest].DeadlineMs)) oldest = slot;
        }
        return oldest;
    }

    public void Free(int slot)
    {
        _slots[slot].InUse = false;
        _slots[slot].Fd = -1;
        Count--;
    }

    public void Dispose() => NativeMemory.Free(_buffers);
}

// The fixed connection table, allocated once at start: slots, per-slot input buffers sized to the
// largest legal request, per-slot output buffers sized to the largest small reply, and two timer
// lists (every entry of a list has the same timeout, so appending keeps it sorted and the first
// deadline is always at the head).
using System.Runtime.InteropServices;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Reactor;

internal enum ConnectionTimer : byte
{
    /// <summary>The packet timeout since the last byte read (Reading), or since a refusal (RefusedAlive).</summary>
    Idle,

    /// <summary>The whole-request deadline since accept (Reading, Writing).</summary>
    Request,
}

internal sealed unsafe class ConnectionTable : IDisposable
{
    public const int InputSize = Limits.InputBufferSize;
    public const int OutputSize = Limits.MaxSmallReply;

    private readonly Connection* _slots;
    private readonly byte* _input;
    private readonly byte* _output;
    // Managed (snapshots are objects), so it grows with the high-water mark instead of being
    // allocated for the whole capacity: 20,000 references would be 160 kB resident at idle.
    private ReplySnapshot?[] _snapshots = new ReplySnapshot?[64];
    private int _highWater;   // slots below it have been used at least once
    private int _freeHead = -1;
    private readonly int[] _heads = { -1, -1 };
    private readonly int[] _tails = { -1, -1 };

    public ConnectionTable(int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        Capacity = capacity;
        // calloc-backed: large blocks come straight from mmap, zeroed and not resident until used.
        _slots = (Connection*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(Connection));
        _input = (byte*)NativeMemory.AllocZeroed((nuint)capacity, InputSize);
        _output = (byte*)NativeMemory.AllocZeroed((nuint)capacity, OutputSize);
    }

    public int Capacity { get; }
    public int Count { get; private set; }

    public ref Connection this[int slot] => ref _slots[slot];

    public Span<byte> Input(int slot) => new(_input + (long)slot * InputSize, InputSize);
    public Span<byte> Output(int slot) => new(_output + (long)slot * OutputSize, OutputSize);

    /// <summary>The NAMES/DUMP reply a slot is sending, if any.</summary>
    public ref ReplySnapshot? Snapshot(int slot) => ref _snapshots[slot];

    public ulong TokenOf(int slot) => PollToken.Make(TokenKind.Connection, slot, _slots[slot].Generation);

    /// <summary>The live slot a connection token names, or -1 when that connection is gone.</summary>
    public int Resolve(ulong token)
    {
        if (PollToken.KindOf(token) != TokenKind.Connection) return -1;
        int slot = PollToken.IndexOf(token);
        if ((uint)slot >= (uint)_highWater) return -1;
        ref var c = ref _slots[slot];
        return c.State != ConnectionState.Free && c.Generation == PollToken.GenerationOf(token) ? slot : -1;
    }

    /// <summary>A free slot, or -1 when the table is full. Recently freed (warm) slots go first.</summary>
    public int Allocate(int fd)
    {
        int slot;
        if (_freeHead >= 0)
        {
            slot = _freeHead;
            _freeHead = _slots[slot].Idle.Next;
        }
        else if (_highWater < Capacity)
        {
            slot = _highWater++;
            if (slot == _snapshots.Length) Array.Resize(ref _snapshots, Math.Min(Capacity, slot * 2));
        }
        else
        {
            return -1;
        }
        ref var c = ref _slots[slot];
        uint generation = (c.Generation + 1) & PollToken.GenerationMask;
        c = default;
        c.Generation = generation;
        c.Fd = fd;
        c.State = ConnectionState.Reading;
        c.Record = -1;
        Count++;
        return slot;
    }

    public void Free(int slot)
    {
        ref var c = ref _slots[slot];
        Unlink(slot, ConnectionTimer.Idle);
        Unlink(slot, ConnectionTimer.Request);
        c.State = ConnectionState.Free;
        c.Fd = -1;
        c.Idle.Next = _freeHead;
        _freeHead = slot;
        Count--;
    }

    /// <summary>The slot with the first deadline on a timer list, or -1.</summary>
    public int Head(ConnectionTimer timer) => _heads[(int)timer];

    public ref TimerLink Link(int slot, ConnectionTimer timer) =>
        ref timer == ConnectionTimer.Idle ? ref _slots[slot].Idle : ref _slots[slot].Request;

    /// <summary>(Re)starts a slot's timer: it goes to the tail, so every list must share one timeout.</summary>
    public void Append(int slot, ConnectionTimer timer, long deadlineMs)
    {
        Unlink(slot, timer);
        int list = (int)timer;
        ref var link = ref Link(slot, timer);
        link.Linked = true;
        link.DeadlineMs = deadlineMs;
        link.Next = -1;
        link.Prev = _tails[list];
        if (_tails[list] >= 0) Link(_tails[list], timer).Next = slot;
        else _heads[list] = slot;
        _tails[list] = slot;
    }

    public void Unlink(int slot, ConnectionTimer timer)
    {
        ref var link = ref Link(slot, timer);
        if (!link.Linked) return;
        int list = (int)timer;
        if (link.Prev >= 0) Link(link.Prev, timer).Next = link.Next;
        else _heads[list] = link.Next;
        if (link.Next >= 0) Link(link.Next, timer).Prev = link.Prev;
        else _tails[list] = link.Prev;
        link.Linked = false;
        link.Prev = link.Next = -1;
    }

    /// <summary>Every slot in use, for shutdown.</summary>
    public List<int> UsedSlots()
    {
        var used = new List<int>(Count);
        for (int i = 0; i < _highWater; i++)
        {
            if (_slots[i].State != ConnectionState.Free) used.Add(i);
        }
        return used;
    }

    public void Dispose()
    {
        NativeMemory.Free(_slots);
        NativeMemory.Free(_input);
        NativeMemory.Free(_output);
    }
}

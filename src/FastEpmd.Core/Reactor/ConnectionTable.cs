// The fixed connection table, allocated once at start: slots, per-slot input buffers sized to the
// largest legal request, per-slot output buffers sized to the largest small reply, and two
// deadline lists kept in start order (all entries of a list share one timeout, so appending
// keeps them sorted and the oldest is always at the head).
using System.Runtime.InteropServices;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Reactor;

internal static class DeadlineList
{
    public const byte None = 0;
    public const byte Requests = 1;   // Reading / Writing one-shot connections
    public const byte Refused = 2;    // RefusedAlive connections
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
    private readonly int[] _heads = { -1, -1, -1 };
    private readonly int[] _tails = { -1, -1, -1 };

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

    public static ulong Token(int slot, uint generation) => ((ulong)generation << 32) | (uint)slot;

    public static int SlotOf(ulong token) => (int)(uint)token;

    public static uint GenerationOf(ulong token) => (uint)(token >> 32);

    public ulong TokenOf(int slot) => Token(slot, _slots[slot].Generation);

    /// <summary>The live slot a token names, or -1 when that connection is gone.</summary>
    public int Resolve(ulong token)
    {
        int slot = SlotOf(token);
        if ((uint)slot >= (uint)_highWater) return -1;
        ref var c = ref _slots[slot];
        return c.State != ConnectionState.Free && c.Generation == GenerationOf(token) ? slot : -1;
    }

    /// <summary>A free slot, or -1 when the table is full. Recently freed (warm) slots go first.</summary>
    public int Allocate(int fd, long nowMs)
    {
        int slot;
        if (_freeHead >= 0)
        {
            slot = _freeHead;
            _freeHead = _slots[slot].Next;
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
        uint generation = c.Generation + 1;
        if (generation == 0) generation = 1;   // generation 0 marks the reactor's own tokens
        c = default;
        c.Generation = generation;
        c.Fd = fd;
        c.State = ConnectionState.Reading;
        c.Record = -1;
        c.StartMs = nowMs;
        c.Prev = c.Next = -1;
        Count++;
        return slot;
    }

    public void Free(int slot)
    {
        ref var c = ref _slots[slot];
        Unlink(slot);
        c.State = ConnectionState.Free;
        c.Fd = -1;
        c.Next = _freeHead;
        _freeHead = slot;
        Count--;
    }

    public int Head(byte list) => _heads[list];

    public void Append(int slot, byte list, long deadlineMs)
    {
        Unlink(slot);
        ref var c = ref _slots[slot];
        c.List = list;
        c.DeadlineMs = deadlineMs;
        c.Next = -1;
        c.Prev = _tails[list];
        if (_tails[list] >= 0) _slots[_tails[list]].Next = slot;
        else _heads[list] = slot;
        _tails[list] = slot;
    }

    public void Unlink(int slot)
    {
        ref var c = ref _slots[slot];
        byte list = c.List;
        if (list == DeadlineList.None) return;
        if (c.Prev >= 0) _slots[c.Prev].Next = c.Next;
        else _heads[list] = c.Next;
        if (c.Next >= 0) _slots[c.Next].Prev = c.Prev;
        else _tails[list] = c.Prev;
        c.List = DeadlineList.None;
        c.Prev = c.Next = -1;
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

// The one connection table, allocated once at start: fixed slots (not resident until used), a free
// list that hands out recently freed (warm) slots first, a quota per endpoint so no protocol can
// take another's slots, and the timer lists' links. It knows descriptors and owners, no protocol.
using System.Runtime.InteropServices;

namespace FastEpmd.Loop;

internal sealed unsafe class ConnectionTable : IDisposable
{
    /// <summary>The most endpoints one table serves.</summary>
    public const int MaxEndpoints = 8;

    private readonly LoopConnection* _slots;
    private readonly int[] _quotas = new int[MaxEndpoints];
    private readonly int[] _counts = new int[MaxEndpoints];
    private int _highWater;   // slots below it have been used at least once
    private int _freeHead = -1;

    public ConnectionTable(int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        Capacity = capacity;
        // calloc-backed: large blocks come straight from mmap, zeroed and not resident until used.
        _slots = (LoopConnection*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(LoopConnection));
    }

    public static int BytesPerSlot => sizeof(LoopConnection);

    public int Capacity { get; }

    /// <summary>Slots below it have been used at least once.</summary>
    public int HighWater => _highWater;
    public int Count { get; private set; }

    public ref LoopConnection this[int slot] => ref _slots[slot];

    /// <summary>Caps how many slots an endpoint may hold at once (default: the whole table).</summary>
    public void SetQuota(int endpoint, int slots) => _quotas[endpoint] = slots;

    public int CountOf(int endpoint) => _counts[endpoint];

    public ulong TokenOf(int slot) => LoopToken.ForConnection(slot, _slots[slot].Generation);

    /// <summary>The live slot a connection token names, or -1 when that connection is gone.</summary>
    public int Resolve(ulong token)
    {
        if (LoopToken.KindOf(token) != TokenKind.Connection) return -1;
        int slot = LoopToken.IndexOf(token);
        if ((uint)slot >= (uint)_highWater) return -1;
        ref var c = ref _slots[slot];
        return c.InUse && c.Generation == LoopToken.GenerationOf(token) ? slot : -1;
    }

    /// <summary>A free slot for the endpoint's fd, or -1 when the table or the endpoint's quota is full.</summary>
    public int Allocate(int fd, int endpoint)
    {
        int quota = _quotas[endpoint];
        if (quota > 0 && _counts[endpoint] >= quota) return -1;
        int slot;
        if (_freeHead >= 0)
        {
            slot = _freeHead;
            _freeHead = _slots[slot].Lane0.Next;
        }
        else if (_highWater < Capacity)
        {
            slot = _highWater++;
        }
        else
        {
            return -1;
        }
        ref var c = ref _slots[slot];
        uint generation = (c.Generation + 1) & LoopToken.GenerationMask;
        c = default;
        c.Generation = generation;
        c.Fd = fd;
        c.Endpoint = (byte)endpoint;
        c.InUse = true;
        c.Lane0.Prev = c.Lane0.Next = c.Lane1.Prev = c.Lane1.Next = -1;
        _counts[endpoint]++;
        Count++;
        return slot;
    }

    /// <summary>Returns a slot (its timers disarmed here); its descriptor must be out of the poller and closed.</summary>
    public void Free(int slot)
    {
        Unlink(slot, 0);
        Unlink(slot, 1);
        ref var c = ref _slots[slot];
        _counts[c.Endpoint]--;
        c.InUse = false;
        c.Fd = -1;
        c.Lane0.Next = _freeHead;
        _freeHead = slot;
        Count--;
    }

    public ref TimerLink Link(int slot, int lane) => ref lane == 0 ? ref _slots[slot].Lane0 : ref _slots[slot].Lane1;

    /// <summary>(Re)starts a slot's timer: it goes to the tail of its list.</summary>
    public void Append(int slot, TimerList list, long deadlineMs)
    {
        ref var link = ref Link(slot, list.Lane);
        if (link.List != 0) Unlink(slot, list.Lane);
        link.List = list.Id + 1;
        link.DeadlineMs = deadlineMs;
        link.Next = -1;
        link.Prev = list.Tail;
        if (list.Tail >= 0) Link(list.Tail, list.Lane).Next = slot;
        else list.Head = slot;
        list.Tail = slot;
    }

    /// <summary>The timer lists, by id.</summary>
    public List<TimerList> Timers { get; } = new();

    public TimerList CreateTimer(int endpoint, int lane, long timeoutMs)
    {
        var list = new TimerList(Timers.Count, endpoint, lane, timeoutMs);
        Timers.Add(list);
        return list;
    }

    /// <summary>Takes the slot out of whatever list it is in on that lane.</summary>
    public void Unlink(int slot, int lane)
    {
        ref var link = ref Link(slot, lane);
        if (link.List == 0) return;
        var list = Timers[link.List - 1];
        if (link.Prev >= 0) Link(link.Prev, lane).Next = link.Next;
        else list.Head = link.Next;
        if (link.Next >= 0) Link(link.Next, lane).Prev = link.Prev;
        else list.Tail = link.Prev;
        link.List = 0;
        link.Prev = link.Next = -1;
    }

    /// <summary>Every slot the endpoint holds (shutdown, export): allocates, never on a request path.</summary>
    public List<int> SlotsOf(int endpoint)
    {
        var used = new List<int>(_counts[endpoint]);
        for (int i = 0; i < _highWater; i++)
        {
            if (_slots[i].InUse && _slots[i].Endpoint == endpoint) used.Add(i);
        }
        return used;
    }

    public void Dispose() => NativeMemory.Free(_slots);
}

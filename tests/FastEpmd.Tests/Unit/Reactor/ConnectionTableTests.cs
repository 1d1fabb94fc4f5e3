// The fixed connection table: capacity, generations in tokens, deadline lists, slot buffers.
using FastEpmd.Reactor;

namespace FastEpmd.Tests.Unit.Reactor;

public class ConnectionTableTests
{
    private static List<int> Walk(ConnectionTable table, ConnectionTimer timer)
    {
        var slots = new List<int>();
        for (int s = table.Head(timer); s >= 0 && slots.Count <= table.Capacity; s = table.Link(s, timer).Next) slots.Add(s);
        return slots;
    }

    [Test]
    public void Allocates_up_to_capacity_then_refuses()
    {
        using var table = new ConnectionTable(4);
        var slots = Enumerable.Range(0, 4).Select(i => table.Allocate(100 + i)).ToList();
        Assert.That(slots, Is.Unique);
        Assert.That(slots, Is.All.InRange(0, 3));
        Assert.That(table.Count, Is.EqualTo(4));
        Assert.That(table.Allocate(200), Is.EqualTo(-1));
        Assert.That(table.Count, Is.EqualTo(4));
    }

    [Test]
    public void Every_slot_up_to_capacity_can_hold_a_reply_snapshot()
    {
        // The managed snapshot array starts small and grows with the high-water mark.
        using var table = new ConnectionTable(300);
        var cache = new FastEpmd.Service.ReplySnapshotCache();
        var snapshot = new FastEpmd.Service.ReplySnapshot(cache);
        var slots = Enumerable.Range(0, 300).Select(i => table.Allocate(100 + i)).ToList();
        Assert.That(slots, Is.All.GreaterThanOrEqualTo(0));
        foreach (int slot in slots) table.Snapshot(slot) = snapshot;
        Assert.That(slots.All(slot => ReferenceEquals(table.Snapshot(slot), snapshot)), Is.True);
        Assert.That(table.Allocate(999), Is.EqualTo(-1));
    }

    [Test]
    public void New_slot_is_initialised()
    {
        using var table = new ConnectionTable(2);
        int slot = table.Allocate(42);
        var c = table[slot];
        Assert.Multiple(() =>
        {
            Assert.That(c.Fd, Is.EqualTo(42));
            Assert.That(c.State, Is.EqualTo(ConnectionState.Reading));
            Assert.That(c.Record, Is.EqualTo(-1));
            Assert.That(c.InCount, Is.EqualTo(0));
            Assert.That(c.Idle.Linked, Is.False);
            Assert.That(c.Request.Linked, Is.False);
            Assert.That(c.InPoller, Is.False);
            Assert.That(table.Snapshot(slot), Is.Null);
        });
    }

    [Test]
    public void Reused_slot_is_clean_again()
    {
        using var table = new ConnectionTable(1);
        int slot = table.Allocate(42);
        table[slot].InCount = 17;
        table[slot].Record = 3;
        table[slot].InPoller = true;
        table[slot].State = ConnectionState.Registered;
        table.Append(slot, ConnectionTimer.Idle, 99);
        table.Append(slot, ConnectionTimer.Request, 99);
        table.Free(slot);
        Assert.That(table.Count, Is.EqualTo(0));
        Assert.That(table.Head(ConnectionTimer.Idle), Is.EqualTo(-1), "Free unlinks");
        Assert.That(table.Head(ConnectionTimer.Request), Is.EqualTo(-1), "Free unlinks");
        Assert.That(table.Allocate(43), Is.EqualTo(slot));
        Assert.That(table[slot].InCount, Is.EqualTo(0));
        Assert.That(table[slot].Record, Is.EqualTo(-1));
        Assert.That(table[slot].InPoller, Is.False);
        Assert.That(table[slot].State, Is.EqualTo(ConnectionState.Reading));
    }

    [Test]
    public void Freed_slot_is_handed_out_first()
    {
        using var table = new ConnectionTable(8);
        int a = table.Allocate(1);
        int b = table.Allocate(2);
        table.Allocate(3);
        table.Free(a);
        table.Free(b);
        Assert.That(table.Allocate(4), Is.EqualTo(b));
        Assert.That(table.Allocate(5), Is.EqualTo(a));
    }

    [Test]
    public void Token_names_its_kind_index_and_generation()
    {
        ulong token = PollToken.Make(TokenKind.Connection, 7, 0x1234);
        Assert.That(token, Is.EqualTo(0x0000_1234_0000_0007UL));
        Assert.That(PollToken.KindOf(token), Is.EqualTo(TokenKind.Connection));
        Assert.That(PollToken.IndexOf(token), Is.EqualTo(7));
        Assert.That(PollToken.GenerationOf(token), Is.EqualTo(0x1234u));
        ulong listener = PollToken.Make(TokenKind.Listener, 7);
        Assert.That(PollToken.KindOf(listener), Is.EqualTo(TokenKind.Listener));
        Assert.That(PollToken.IndexOf(listener), Is.EqualTo(7));
        Assert.That(PollToken.KindOf(PollToken.Make(TokenKind.Waker, 0)), Is.EqualTo(TokenKind.Waker));
        Assert.That(PollToken.KindOf(PollToken.Make(TokenKind.Connection, 1, uint.MaxValue)), Is.EqualTo(TokenKind.Connection),
            "a generation never spills into the kind");
    }

    [Test]
    public void Old_token_no_longer_resolves_after_free_and_reuse()
    {
        using var table = new ConnectionTable(2);
        int slot = table.Allocate(10);
        ulong first = table.TokenOf(slot);
        Assert.That(table.Resolve(first), Is.EqualTo(slot));

        table.Free(slot);
        Assert.That(table.Resolve(first), Is.EqualTo(-1));

        Assert.That(table.Allocate(11), Is.EqualTo(slot));
        ulong second = table.TokenOf(slot);
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(table.Resolve(first), Is.EqualTo(-1));
        Assert.That(table.Resolve(second), Is.EqualTo(slot));
    }

    [Test]
    public void Generation_wraps_within_its_24_bits()
    {
        using var table = new ConnectionTable(1);
        int slot = table.Allocate(10);
        table[slot].Generation = PollToken.GenerationMask;
        ulong last = table.TokenOf(slot);
        table.Free(slot);
        table.Allocate(11);
        Assert.That(PollToken.GenerationOf(table.TokenOf(slot)), Is.EqualTo(0u));
        Assert.That(PollToken.KindOf(table.TokenOf(slot)), Is.EqualTo(TokenKind.Connection));
        Assert.That(table.Resolve(last), Is.EqualTo(-1));
    }

    [Test]
    public void Tokens_of_unused_slots_and_reactor_tokens_do_not_resolve()
    {
        using var table = new ConnectionTable(4);
        table.Allocate(10);
        int slot = table.Allocate(10);
        Assert.That(table.Resolve(PollToken.Make(TokenKind.Connection, 3, 1)), Is.EqualTo(-1), "never used");
        Assert.That(table.Resolve(PollToken.Make(TokenKind.Connection, 1000, 1)), Is.EqualTo(-1), "beyond capacity");
        Assert.That(table.Resolve(PollToken.Make(TokenKind.Listener, slot, table[slot].Generation)), Is.EqualTo(-1), "listener token");
        Assert.That(table.Resolve(PollToken.Make(TokenKind.Waker, slot, table[slot].Generation)), Is.EqualTo(-1), "waker token");
        Assert.That(table.Resolve(table.TokenOf(slot)), Is.EqualTo(slot));
    }

    [Test]
    public void Timer_lists_keep_append_order_and_unlink_anywhere()
    {
        using var table = new ConnectionTable(8);
        var s = Enumerable.Range(0, 5).Select(i => table.Allocate(i)).ToArray();
        foreach (int slot in s) table.Append(slot, ConnectionTimer.Request, 100 + slot);
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(s));
        Assert.That(table[s[0]].Request.DeadlineMs, Is.EqualTo(100 + s[0]));

        table.Unlink(s[2], ConnectionTimer.Request);                        // middle
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(new[] { s[0], s[1], s[3], s[4] }));
        table.Unlink(s[0], ConnectionTimer.Request);                        // head
        Assert.That(table.Head(ConnectionTimer.Request), Is.EqualTo(s[1]));
        table.Unlink(s[4], ConnectionTimer.Request);                        // tail
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(new[] { s[1], s[3] }));
        table.Append(s[0], ConnectionTimer.Request, 500);   // goes to the tail
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(new[] { s[1], s[3], s[0] }));
        table.Unlink(s[2], ConnectionTimer.Request);                        // not on a list: no-op
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(new[] { s[1], s[3], s[0] }));
    }

    [Test]
    public void A_slot_is_on_both_timers_at_once_and_a_restart_moves_it_to_the_tail()
    {
        using var table = new ConnectionTable(4);
        int a = table.Allocate(1);
        int b = table.Allocate(2);
        foreach (int slot in new[] { a, b })
        {
            table.Append(slot, ConnectionTimer.Request, 10 + slot);
            table.Append(slot, ConnectionTimer.Idle, 20 + slot);
        }
        table.Append(a, ConnectionTimer.Idle, 30);   // a byte read: the idle timer restarts
        Assert.That(Walk(table, ConnectionTimer.Idle), Is.EqualTo(new[] { b, a }));
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(new[] { a, b }), "the request deadline does not move");
        Assert.That(table[a].Idle.DeadlineMs, Is.EqualTo(30));
        table.Free(b);
        Assert.That(Walk(table, ConnectionTimer.Idle), Is.EqualTo(new[] { a }));
        Assert.That(Walk(table, ConnectionTimer.Request), Is.EqualTo(new[] { a }));
        table.Unlink(a, ConnectionTimer.Idle);
        Assert.That(table.Head(ConnectionTimer.Idle), Is.EqualTo(-1));
        Assert.That(table[a].Idle.Linked, Is.False);
        Assert.That(table[a].Request.Linked, Is.True);
    }

    [Test]
    public void Slot_buffers_are_sized_and_separate()
    {
        using var table = new ConnectionTable(3);
        Assert.That(table.Input(0).Length, Is.EqualTo(3060));
        Assert.That(table.Output(0).Length, Is.EqualTo(2056));
        table.Input(1).Fill(0xaa);
        table.Output(1).Fill(0xbb);
        Assert.That(table.Input(0).ToArray(), Is.All.EqualTo((byte)0));
        Assert.That(table.Input(2).ToArray(), Is.All.EqualTo((byte)0));
        Assert.That(table.Output(0).ToArray(), Is.All.EqualTo((byte)0));
        Assert.That(table.Output(2).ToArray(), Is.All.EqualTo((byte)0));
    }

    [Test]
    public void Used_slots_lists_the_live_ones()
    {
        using var table = new ConnectionTable(4);
        int a = table.Allocate(1);
        int b = table.Allocate(2);
        int c = table.Allocate(3);
        table.Free(b);
        Assert.That(table.UsedSlots(), Is.EquivalentTo(new[] { a, c }));
    }

    [Test]
    public void Capacity_below_1_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionTable(0).Dispose());
    }
}

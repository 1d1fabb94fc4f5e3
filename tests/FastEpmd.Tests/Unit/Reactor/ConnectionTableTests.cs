// The fixed connection table: capacity, generations in tokens, deadline lists, slot buffers.
using FastEpmd.Reactor;

namespace FastEpmd.Tests.Unit.Reactor;

public class ConnectionTableTests
{
    private static List<int> Walk(ConnectionTable table, byte list)
    {
        var slots = new List<int>();
        for (int s = table.Head(list); s >= 0; s = table[s].Next) slots.Add(s);
        return slots;
    }

    [Test]
    public void Allocates_up_to_capacity_then_refuses()
    {
        using var table = new ConnectionTable(4);
        var slots = Enumerable.Range(0, 4).Select(i => table.Allocate(100 + i, 1000 + i)).ToList();
        Assert.That(slots, Is.Unique);
        Assert.That(slots, Is.All.InRange(0, 3));
        Assert.That(table.Count, Is.EqualTo(4));
        Assert.That(table.Allocate(200, 2000), Is.EqualTo(-1));
        Assert.That(table.Count, Is.EqualTo(4));
    }

    [Test]
    public void Every_slot_up_to_capacity_can_hold_a_reply_snapshot()
    {
        // The managed snapshot array starts small and grows with the high-water mark.
        using var table = new ConnectionTable(300);
        var cache = new FastEpmd.Service.ReplySnapshotCache();
        var snapshot = new FastEpmd.Service.ReplySnapshot(cache);
        var slots = Enumerable.Range(0, 300).Select(i => table.Allocate(100 + i, 1000)).ToList();
        Assert.That(slots, Is.All.GreaterThanOrEqualTo(0));
        foreach (int slot in slots) table.Snapshot(slot) = snapshot;
        Assert.That(slots.All(slot => ReferenceEquals(table.Snapshot(slot), snapshot)), Is.True);
        Assert.That(table.Allocate(999, 1000), Is.EqualTo(-1));
    }

    [Test]
    public void New_slot_is_initialised()
    {
        using var table = new ConnectionTable(2);
        int slot = table.Allocate(42, 1234);
        var c = table[slot];
        Assert.Multiple(() =>
        {
            Assert.That(c.Fd, Is.EqualTo(42));
            Assert.That(c.State, Is.EqualTo(ConnectionState.Reading));
            Assert.That(c.Record, Is.EqualTo(-1));
            Assert.That(c.StartMs, Is.EqualTo(1234));
            Assert.That(c.InCount, Is.EqualTo(0));
            Assert.That(c.List, Is.EqualTo(DeadlineList.None));
            Assert.That(c.InPoller, Is.False);
            Assert.That(table.Snapshot(slot), Is.Null);
        });
    }

    [Test]
    public void Reused_slot_is_clean_again()
    {
        using var table = new ConnectionTable(1);
        int slot = table.Allocate(42, 1);
        table[slot].InCount = 17;
        table[slot].Record = 3;
        table[slot].InPoller = true;
        table[slot].State = ConnectionState.Registered;
        table.Append(slot, DeadlineList.Refused, 99);
        table.Free(slot);
        Assert.That(table.Count, Is.EqualTo(0));
        Assert.That(table.Head(DeadlineList.Refused), Is.EqualTo(-1), "Free unlinks");
        Assert.That(table.Allocate(43, 2), Is.EqualTo(slot));
        Assert.That(table[slot].InCount, Is.EqualTo(0));
        Assert.That(table[slot].Record, Is.EqualTo(-1));
        Assert.That(table[slot].InPoller, Is.False);
        Assert.That(table[slot].State, Is.EqualTo(ConnectionState.Reading));
    }

    [Test]
    public void Freed_slot_is_handed_out_first()
    {
        using var table = new ConnectionTable(8);
        int a = table.Allocate(1, 0);
        int b = table.Allocate(2, 0);
        table.Allocate(3, 0);
        table.Free(a);
        table.Free(b);
        Assert.That(table.Allocate(4, 0), Is.EqualTo(b));
        Assert.That(table.Allocate(5, 0), Is.EqualTo(a));
    }

    [Test]
    public void Token_encodes_slot_and_generation()
    {
        ulong token = ConnectionTable.Token(7, 0x1234);
        Assert.That(token, Is.EqualTo(0x0000_1234_0000_0007UL));
        Assert.That(ConnectionTable.SlotOf(token), Is.EqualTo(7));
        Assert.That(ConnectionTable.GenerationOf(token), Is.EqualTo(0x1234u));
    }

    [Test]
    public void Old_token_no_longer_resolves_after_free_and_reuse()
    {
        using var table = new ConnectionTable(2);
        int slot = table.Allocate(10, 0);
        ulong first = table.TokenOf(slot);
        Assert.That(ConnectionTable.GenerationOf(first), Is.Not.EqualTo(0u), "generation 0 is the reactor's own");
        Assert.That(table.Resolve(first), Is.EqualTo(slot));

        table.Free(slot);
        Assert.That(table.Resolve(first), Is.EqualTo(-1));

        Assert.That(table.Allocate(11, 0), Is.EqualTo(slot));
        ulong second = table.TokenOf(slot);
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(table.Resolve(first), Is.EqualTo(-1));
        Assert.That(table.Resolve(second), Is.EqualTo(slot));
    }

    [Test]
    public void Generation_skips_0_when_it_wraps()
    {
        using var table = new ConnectionTable(1);
        int slot = table.Allocate(10, 0);
        table[slot].Generation = uint.MaxValue;
        ulong last = table.TokenOf(slot);
        table.Free(slot);
        table.Allocate(11, 0);
        Assert.That(ConnectionTable.GenerationOf(table.TokenOf(slot)), Is.EqualTo(1u));
        Assert.That(table.Resolve(last), Is.EqualTo(-1));
    }

    [Test]
    public void Tokens_of_unused_slots_and_reactor_tokens_do_not_resolve()
    {
        using var table = new ConnectionTable(4);
        table.Allocate(10, 0);
        Assert.That(table.Resolve(ConnectionTable.Token(3, 1)), Is.EqualTo(-1), "never used");
        Assert.That(table.Resolve(ConnectionTable.Token(1000, 1)), Is.EqualTo(-1), "beyond capacity");
        Assert.That(table.Resolve(ConnectionTable.Token(0, 0)), Is.EqualTo(-1), "listener token");
        Assert.That(table.Resolve(0), Is.EqualTo(-1));
    }

    [Test]
    public void Deadline_lists_keep_append_order_and_unlink_anywhere()
    {
        using var table = new ConnectionTable(8);
        var s = Enumerable.Range(0, 5).Select(i => table.Allocate(i, i)).ToArray();
        foreach (int slot in s) table.Append(slot, DeadlineList.Requests, 100 + slot);
        Assert.That(Walk(table, DeadlineList.Requests), Is.EqualTo(s));
        Assert.That(table[s[0]].DeadlineMs, Is.EqualTo(100 + s[0]));

        table.Unlink(s[2]);                        // middle
        Assert.That(Walk(table, DeadlineList.Requests), Is.EqualTo(new[] { s[0], s[1], s[3], s[4] }));
        table.Unlink(s[0]);                        // head
        Assert.That(table.Head(DeadlineList.Requests), Is.EqualTo(s[1]));
        table.Unlink(s[4]);                        // tail
        Assert.That(Walk(table, DeadlineList.Requests), Is.EqualTo(new[] { s[1], s[3] }));
        table.Append(s[0], DeadlineList.Requests, 500);   // goes to the tail
        Assert.That(Walk(table, DeadlineList.Requests), Is.EqualTo(new[] { s[1], s[3], s[0] }));
        table.Unlink(s[2]);                        // not on a list: no-op
        Assert.That(Walk(table, DeadlineList.Requests), Is.EqualTo(new[] { s[1], s[3], s[0] }));
    }

    [Test]
    public void Append_moves_a_slot_between_lists()
    {
        using var table = new ConnectionTable(4);
        int a = table.Allocate(1, 0);
        int b = table.Allocate(2, 0);
        table.Append(a, DeadlineList.Requests, 10);
        table.Append(b, DeadlineList.Requests, 20);
        table.Append(a, DeadlineList.Refused, 30);
        Assert.That(Walk(table, DeadlineList.Requests), Is.EqualTo(new[] { b }));
        Assert.That(Walk(table, DeadlineList.Refused), Is.EqualTo(new[] { a }));
        Assert.That(table[a].List, Is.EqualTo(DeadlineList.Refused));
        Assert.That(table[a].DeadlineMs, Is.EqualTo(30));
        table.Free(b);
        Assert.That(table.Head(DeadlineList.Requests), Is.EqualTo(-1));
        table.Unlink(a);
        Assert.That(table.Head(DeadlineList.Refused), Is.EqualTo(-1));
        Assert.That(table[a].List, Is.EqualTo(DeadlineList.None));
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
        int a = table.Allocate(1, 0);
        int b = table.Allocate(2, 0);
        int c = table.Allocate(3, 0);
        table.Free(b);
        Assert.That(table.UsedSlots(), Is.EquivalentTo(new[] { a, c }));
    }

    [Test]
    public void Capacity_below_1_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionTable(0).Dispose());
    }
}

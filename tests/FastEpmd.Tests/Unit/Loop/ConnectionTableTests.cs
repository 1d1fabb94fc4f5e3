// The loop's one connection table: capacity and quotas, generations in tokens, timer lists.
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Loop;

namespace FastEpmd.Tests.Unit.Loop;

public class ConnectionTableTests
{
    private const int Epmd = 0;
    private const int Metrics = 1;

    private static List<int> Walk(ConnectionTable table, TimerList list)
    {
        var slots = new List<int>();
        for (int s = list.Head; s >= 0 && slots.Count <= table.Capacity; s = table.Link(s, list.Lane).Next) slots.Add(s);
        return slots;
    }

    [Test]
    public void Allocates_up_to_capacity_then_refuses()
    {
        using var table = new ConnectionTable(4);
        var slots = Enumerable.Range(0, 4).Select(i => table.Allocate(100 + i, Epmd)).ToList();
        Assert.That(slots, Is.Unique);
        Assert.That(slots, Is.All.InRange(0, 3));
        Assert.That(table.Count, Is.EqualTo(4));
        Assert.That(table.Allocate(200, Epmd), Is.EqualTo(-1));
        Assert.That(table.Count, Is.EqualTo(4));
    }

    [Test]
    public void A_quota_keeps_one_endpoint_from_taking_another_ones_slots()
    {
        using var table = new ConnectionTable(6);
        table.SetQuota(Epmd, 4);
        table.SetQuota(Metrics, 2);
        for (int i = 0; i < 4; i++) Assert.That(table.Allocate(10 + i, Epmd), Is.GreaterThanOrEqualTo(0));
        Assert.That(table.Allocate(20, Epmd), Is.EqualTo(-1), "epmd's quota is full");
        Assert.That(table.Allocate(21, Metrics), Is.GreaterThanOrEqualTo(0), "metrics still has its own");
        Assert.That(table.Allocate(22, Metrics), Is.GreaterThanOrEqualTo(0));
        Assert.That(table.Allocate(23, Metrics), Is.EqualTo(-1));
        Assert.That((table.CountOf(Epmd), table.CountOf(Metrics)), Is.EqualTo((4, 2)));
    }

    [Test]
    public void Reused_slot_is_clean_again()
    {
        using var table = new ConnectionTable(1);
        var idle = table.CreateTimer(Epmd, 0, 10);
        var request = table.CreateTimer(Epmd, 1, 20);
        int slot = table.Allocate(42, Epmd);
        table[slot].InPoller = true;
        table[slot].Data = 7;
        table.Append(slot, idle, 99);
        table.Append(slot, request, 99);
        table.Free(slot);
        Assert.That(table.Count, Is.EqualTo(0));
        Assert.That(idle.Head, Is.EqualTo(-1), "Free unlinks");
        Assert.That(request.Head, Is.EqualTo(-1), "Free unlinks");
        Assert.That(table.Allocate(43, Metrics), Is.EqualTo(slot));
        Assert.Multiple(() =>
        {
            Assert.That(table[slot].Fd, Is.EqualTo(43));
            Assert.That(table[slot].Endpoint, Is.EqualTo(Metrics));
            Assert.That(table[slot].InPoller, Is.False);
            Assert.That(table[slot].Data, Is.Zero);
            Assert.That(table[slot].Lane0.List, Is.Zero);
            Assert.That(table[slot].Lane1.List, Is.Zero);
        });
    }

    [Test]
    public void Freed_slot_is_handed_out_first()
    {
        using var table = new ConnectionTable(8);
        int a = table.Allocate(1, Epmd);
        int b = table.Allocate(2, Epmd);
        table.Allocate(3, Epmd);
        table.Free(a);
        table.Free(b);
        Assert.That(table.Allocate(4, Epmd), Is.EqualTo(b));
        Assert.That(table.Allocate(5, Epmd), Is.EqualTo(a));
    }

    [Test]
    public void Token_names_its_kind_index_and_generation()
    {
        ulong token = LoopToken.ForConnection(7, 0x1234);
        Assert.That(token, Is.EqualTo(0x0000_1234_0000_0007UL));
        Assert.That(LoopToken.KindOf(token), Is.EqualTo(TokenKind.Connection));
        Assert.That(LoopToken.IndexOf(token), Is.EqualTo(7));
        Assert.That(LoopToken.GenerationOf(token), Is.EqualTo(0x1234u));
        ulong listener = LoopToken.ForListener(7);
        Assert.That(LoopToken.KindOf(listener), Is.EqualTo(TokenKind.Listener));
        Assert.That(LoopToken.IndexOf(listener), Is.EqualTo(7));
        Assert.That(LoopToken.KindOf(LoopToken.Waker), Is.EqualTo(TokenKind.Waker));
        Assert.That(LoopToken.KindOf(LoopToken.ForConnection(1, uint.MaxValue)), Is.EqualTo(TokenKind.Connection),
            "a generation never spills into the kind");
    }

    [Test]
    public void Old_token_no_longer_resolves_after_free_and_reuse()
    {
        using var table = new ConnectionTable(1);
        int slot = table.Allocate(10, Epmd);
        ulong first = table.TokenOf(slot);
        Assert.That(table.Resolve(first), Is.EqualTo(slot));
        table.Free(slot);
        Assert.That(table.Resolve(first), Is.EqualTo(-1));
        Assert.That(table.Allocate(11, Epmd), Is.EqualTo(slot));
        ulong second = table.TokenOf(slot);
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(table.Resolve(first), Is.EqualTo(-1));
        Assert.That(table.Resolve(second), Is.EqualTo(slot));
    }

    [Test]
    public void Generation_wraps_within_its_24_bits()
    {
        using var table = new ConnectionTable(1);
        int slot = table.Allocate(1, Epmd);
        table[slot].Generation = LoopToken.GenerationMask;
        ulong last = table.TokenOf(slot);
        table.Free(slot);
        table.Allocate(2, Epmd);
        Assert.That(LoopToken.GenerationOf(table.TokenOf(slot)), Is.EqualTo(0u));
        Assert.That(LoopToken.KindOf(table.TokenOf(slot)), Is.EqualTo(TokenKind.Connection));
        Assert.That(table.Resolve(last), Is.EqualTo(-1));
    }

    [Test]
    public void Tokens_of_unused_slots_and_loop_tokens_do_not_resolve()
    {
        using var table = new ConnectionTable(8);
        table.Allocate(1, Epmd);
        int slot = table.Allocate(2, Epmd);
        Assert.That(table.Resolve(LoopToken.ForConnection(3, 1)), Is.EqualTo(-1), "never used");
        Assert.That(table.Resolve(LoopToken.ForConnection(1000, 1)), Is.EqualTo(-1), "beyond capacity");
        Assert.That(table.Resolve(LoopToken.ForListener(slot)), Is.EqualTo(-1), "listener token");
        Assert.That(table.Resolve(LoopToken.Waker), Is.EqualTo(-1), "waker token");
        Assert.That(table.Resolve(table.TokenOf(slot)), Is.EqualTo(slot));
    }

    [Test]
    public void Timer_lists_keep_append_order_and_unlink_anywhere()
    {
        using var table = new ConnectionTable(8);
        var list = table.CreateTimer(Epmd, 1, 100);
        var s = Enumerable.Range(0, 5).Select(i => table.Allocate(i, Epmd)).ToArray();
        foreach (int slot in s) table.Append(slot, list, 100 + slot);
        Assert.That(Walk(table, list), Is.EqualTo(s));
        Assert.That(table.Link(s[0], 1).DeadlineMs, Is.EqualTo(100 + s[0]));
        table.Unlink(s[2], 1);
        Assert.That(Walk(table, list), Is.EqualTo(new[] { s[0], s[1], s[3], s[4] }));
        table.Unlink(s[0], 1);
        Assert.That(list.Head, Is.EqualTo(s[1]));
        table.Unlink(s[4], 1);
        Assert.That(Walk(table, list), Is.EqualTo(new[] { s[1], s[3] }));
        table.Append(s[0], list, 200);
        Assert.That(Walk(table, list), Is.EqualTo(new[] { s[1], s[3], s[0] }));
        table.Unlink(s[2], 1);
        Assert.That(Walk(table, list), Is.EqualTo(new[] { s[1], s[3], s[0] }), "unlinking an unlinked slot changes nothing");
    }

    [Test]
    public void A_slot_is_on_both_lanes_at_once_and_a_restart_moves_it_to_the_tail()
    {
        using var table = new ConnectionTable(4);
        var idle = table.CreateTimer(Epmd, 0, 10);
        var request = table.CreateTimer(Epmd, 1, 20);
        int a = table.Allocate(1, Epmd);
        int b = table.Allocate(2, Epmd);
        foreach (int slot in new[] { a, b })
        {
            table.Append(slot, idle, 10);
            table.Append(slot, request, 20);
        }
        table.Append(a, idle, 30);
        Assert.That(Walk(table, idle), Is.EqualTo(new[] { b, a }));
        Assert.That(Walk(table, request), Is.EqualTo(new[] { a, b }), "the request deadline does not move");
        Assert.That(table.Link(a, 0).DeadlineMs, Is.EqualTo(30));
        table.Free(b);
        Assert.That(Walk(table, idle), Is.EqualTo(new[] { a }));
        Assert.That(Walk(table, request), Is.EqualTo(new[] { a }));
        table.Unlink(a, 0);
        Assert.That(idle.Head, Is.EqualTo(-1));
        Assert.That(table.Link(a, 0).List, Is.Zero);
        Assert.That(table.Link(a, 1).List, Is.EqualTo(request.Id + 1));
    }

    [Test]
    public unsafe void A_connection_costs_at_most_128_bytes()
    {
        // What the loop keeps per slot, and what the epmd endpoint keeps beside it.
        int perConnection = sizeof(LoopConnection) + sizeof(EpmdConnection);
        TestContext.Out.WriteLine($"sizeof(LoopConnection) = {sizeof(LoopConnection)}, sizeof(EpmdConnection) = {sizeof(EpmdConnection)} bytes");
        Assert.That(perConnection, Is.LessThanOrEqualTo(128));

        // And that is all the table reserves: a million slots grow VmData by about 1e6 x sizeof.
        const int slots = 1_000_000;
        long before = VmDataBytes();
        using var table = new ConnectionTable(slots);
        long grown = VmDataBytes() - before;
        double perSlot = (double)grown / slots;
        TestContext.Out.WriteLine($"{slots} slots: VmData +{grown / 1024} KiB, {perSlot:F1} bytes per slot");
        Assert.That(perSlot, Is.LessThanOrEqualTo(ConnectionTable.BytesPerSlot + 1));
    }

    private static long VmDataBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmData:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        throw new InvalidOperationException("no VmData in /proc/self/status");
    }

    [Test]
    public void Slots_of_lists_an_endpoints_live_ones()
    {
        using var table = new ConnectionTable(4);
        int a = table.Allocate(1, Epmd);
        int b = table.Allocate(2, Epmd);
        int m = table.Allocate(3, Metrics);
        int c = table.Allocate(4, Epmd);
        table.Free(b);
        Assert.That(table.SlotsOf(Epmd), Is.EquivalentTo(new[] { a, c }));
        Assert.That(table.SlotsOf(Metrics), Is.EquivalentTo(new[] { m }));
    }

    [Test]
    public void Capacity_below_1_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionTable(0).Dispose());
    }
}

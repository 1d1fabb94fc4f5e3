// The mirror keeps an image current one slot at a time: after any sequence of changes it decodes to
// what a whole encode gives, and one slot write costs well under a microsecond (reported, not asserted).
using System.Diagnostics;
using System.Text;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.State;
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.State;

public class StateMirrorTests
{
    private const long T0 = 1_700_000_000;

    private static string Describe(DecodedState state) =>
        string.Join("\n", state.Records.OrderBy(r => r.Slot).Select(r =>
            $"{r.Slot} {r.State} {Encoding.ASCII.GetString(r.Name)} {r.Port} {r.Creation} {r.Key} {r.Sequence} {r.Fd}"));

    [Test]
    public void A_mirror_fed_by_the_service_decodes_to_the_whole_encode()
    {
        var registry = new NodeRegistry(64, NodeRegistry.DebugRememberLimit);
        var service = new EpmdService(new EpmdOptions(), registry, Log.Silent, () => T0);
        int slots = StateMirror.SlotsFor(32, registry.RememberLimit);
        var memory = new byte[StateImage.LengthFor(slots)];
        var mirror = new StateMirror(memory, slots);
        mirror.WriteAll(registry);
        service.Mirror = mirror;
        var reply = new byte[Limits.MaxSmallReply];
        var random = new Random(13);
        var owners = new Dictionary<int, ulong>();
        for (int step = 0; step < 2000; step++)
        {
            int n = random.Next(24);
            string name = "n" + n;
            int record = registry.FindRegistered(Encoding.ASCII.GetBytes(name));
            if (record >= 0)
            {
                service.ConnectionClosed(record, owners[record]);
                continue;
            }
            if (registry.RegisteredCount >= 32) continue;
            var alive = Hex.Cat(Hex.Parse("78"), Hex.U16(5000 + n), Hex.Parse("4d 00 0006 0005"), Hex.U16(name.Length), Hex.Ascii(name), Hex.Parse("0000"));
            ulong token = (ulong)step + 1;
            var d = service.Handle(alive, true, token, 40 + n, reply);
            owners[d.Record] = token;
        }
        var whole = new byte[StateImage.Measure(registry)];
        StateImage.Encode(registry, whole);
        var fromMirror = StateImage.Decode(memory, out string? reason);
        Assert.That(reason, Is.Null);
        Assert.That(Describe(fromMirror!), Is.EqualTo(Describe(StateImage.Decode(whole, out _)!)));
        Assert.That(fromMirror!.SlotCount, Is.EqualTo(slots));
        TestContext.Out.WriteLine($"{mirror.Writes} slot writes for {registry.RecordSlots} records");
    }

    [Test]
    public void A_slot_write_costs_well_under_a_microsecond()
    {
        var registry = new NodeRegistry();
        for (int i = 0; i < 5000; i++)
            registry.Register(Encoding.ASCII.GetBytes("rabbit_node_" + i), default, (ushort)(10000 + i), 77, 0, 6, 5, (ulong)i + 1, i, T0, out _);
        int slots = StateMirror.SlotsFor(16384, registry.RememberLimit);
        var mirror = new StateMirror(new byte[StateImage.LengthFor(slots)], slots);
        mirror.WriteAll(registry);
        const int writes = 200_000;
        for (int i = 0; i < 10_000; i++) mirror.Write(registry, i % 5000);
        var watch = new Stopwatch();   // made before the count: an unoptimised (Debug) build does not stack-allocate it
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        watch.Start();
        for (int i = 0; i < writes; i++) mirror.Write(registry, (i * 7919) % 5000);
        watch.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        double ns = watch.Elapsed.TotalMilliseconds * 1e6 / writes;
        TestContext.Out.WriteLine($"state slot write with 5,000 nodes registered: {ns:F0} ns per registration change ({writes} writes)");
        Assert.That(allocated, Is.Zero);
        // Bounded per change, whatever the registry's size: a loose bound that only a whole-image rewrite would break.
        Assert.That(ns, Is.LessThan(50_000));
    }
}

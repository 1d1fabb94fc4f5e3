// encode -> decode -> restore gives the registry back exactly: NAMES and DUMP byte for byte, the
// creation a remembered name gets next, OTP's reuse of the oldest remembered record, new keys.
using System.Text;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Restart;
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.State;

public class RegistryRestoreTests
{
    private const long T0 = 1_700_000_000;

    private static NodeRegistry RoundTrip(NodeRegistry registry, int rememberLimit = NodeRegistry.DefaultRememberLimit)
    {
        var image = new byte[StateImage.Measure(registry)];
        StateImage.Encode(registry, image);
        var decoded = StateImage.Decode(image, out string? reason);
        Assert.That(reason, Is.Null);
        var restored = new NodeRegistry(64, rememberLimit);
        restored.Restore(decoded!.SlotCount, decoded.Records);
        // Each restored registration gets its connection back (same fd, so DUMP compares whole).
        for (int r = restored.FirstRegistered; r >= 0; r = restored.NextInList(r))
            restored.Adopt(r, 1000 + (ulong)r, registry[r].Fd);
        return restored;
    }

    private static string Reply(NodeRegistry registry, string tag)
    {
        var service = new EpmdService(new EpmdOptions(), registry, Log.Silent, () => T0);
        var reply = new byte[Limits.MaxSmallReply];
        var d = service.Handle(Hex.Parse(tag), true, 1, 9, reply);
        return Hex.Format(service.Snapshots.Bytes(d.Snapshot));
    }

    private static void Register(NodeRegistry registry, string name, ushort port, ulong owner, long now = T0) =>
        Assert.That(registry.Register(Encoding.UTF8.GetBytes(name), Hex.Parse("00 01"), port, 77, 0, 6, 5, owner, 20 + (int)owner, now, out _),
            Is.EqualTo(RegisterStatus.Registered));

    private static NodeRegistry Busy(int rememberLimit = NodeRegistry.DefaultRememberLimit)
    {
        var registry = new NodeRegistry(64, rememberLimit);
        for (int i = 0; i < 12; i++) Register(registry, "n" + i, (ushort)(6000 + i), (ulong)i + 1, T0 + i);
        foreach (int i in new[] { 3, 7, 0, 11, 5 }) registry.Unregister(registry.FindRegistered(Encoding.UTF8.GetBytes("n" + i)));
        Register(registry, "n7", 6107, 50);     // back from the remembered list: the next creation
        Register(registry, "fresh", 6200, 51);
        return registry;
    }

    [Test]
    public void Names_and_dump_are_byte_identical_after_a_restore()
    {
        var registry = Busy();
        var restored = RoundTrip(registry);
        Assert.That(Reply(restored, "6e"), Is.EqualTo(Reply(registry, "6e")));
        Assert.That(Reply(restored, "64"), Is.EqualTo(Reply(registry, "64")));
        Assert.That(restored.RegisteredCount, Is.EqualTo(registry.RegisteredCount));
        Assert.That(restored.RememberedCount, Is.EqualTo(registry.RememberedCount));
    }

    [Test]
    public void A_remembered_name_comes_back_with_the_same_creation_as_it_would_have()
    {
        var registry = Busy();
        var restored = RoundTrip(registry);
        foreach (var r in new[] { registry, restored }) Register(r, "n3", 6303, 90, T0 + 1000);
        Assert.That(restored[restored.FindRegistered("n3"u8)].Creation, Is.EqualTo(registry[registry.FindRegistered("n3"u8)].Creation));
        Assert.That(restored[restored.FindRegistered("n3"u8)].Creation, Is.EqualTo((uint)(T0 + 3 + 1 + 1)), "bumped once from its first creation");
        Assert.That(Reply(restored, "64"), Is.EqualTo(Reply(registry, "64")));
    }

    [Test]
    public void The_oldest_remembered_record_is_taken_over_the_same_way_after_a_restore()
    {
        // Debug mode's limit of 5: the sixth remembered name makes a new name take over the oldest.
        var registry = new NodeRegistry(64, NodeRegistry.DebugRememberLimit);
        for (int i = 0; i < 8; i++) Register(registry, "m" + i, (ushort)(7000 + i), (ulong)i + 1, T0 + i);
        for (int i = 0; i < 7; i++) registry.Unregister(registry.FindRegistered(Encoding.UTF8.GetBytes("m" + i)));
        var restored = RoundTrip(registry, NodeRegistry.DebugRememberLimit);
        foreach (var r in new[] { registry, restored })
        {
            Register(r, "newcomer", 7100, 99, T0 + 500);
            Register(r, "later", 7101, 98, T0 + 600);
        }
        Assert.That(Reply(restored, "64"), Is.EqualTo(Reply(registry, "64")));
        Assert.That(restored[restored.FindRegistered("newcomer"u8)].Creation, Is.EqualTo(registry[registry.FindRegistered("newcomer"u8)].Creation));
    }

    [Test]
    public void New_registrations_get_keys_and_sequences_above_every_restored_one()
    {
        var registry = Busy();
        var restored = RoundTrip(registry);
        restored.ReserveKeysThrough(500);
        Register(restored, "after", 6400, 77);
        var after = restored[restored.FindRegistered("after"u8)];
        Assert.That(after.Key, Is.EqualTo(501UL));
        ulong maxSequence = 0;
        for (int r = 0; r < registry.RecordSlots; r++) maxSequence = Math.Max(maxSequence, registry[r].Sequence);
        Assert.That(after.Sequence, Is.EqualTo(maxSequence + 1));
    }

    [Test]
    public void Torn_slots_become_holes_that_new_names_reuse()
    {
        var registry = Busy();
        var image = new byte[StateImage.Measure(registry)];
        StateImage.Encode(registry, image);
        int torn = registry.FindRegistered("n4"u8);
        image[StateSlot.OffsetOf(torn) + 3] = 1;
        var decoded = StateImage.Decode(image, out _)!;
        var restored = new NodeRegistry();
        restored.Restore(decoded.SlotCount, decoded.Records);
        Assert.That(restored.FindRegistered("n4"u8), Is.EqualTo(-1));
        Assert.That(restored.RegisteredCount, Is.EqualTo(registry.RegisteredCount - 1));
        Register(restored, "into-the-hole", 6500, 5);
        Assert.That(restored.FindRegistered("into-the-hole"u8), Is.EqualTo(torn));
        Assert.That(restored.RecordSlots, Is.EqualTo(registry.RecordSlots));
    }
}

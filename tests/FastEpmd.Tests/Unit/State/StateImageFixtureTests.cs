// The version-1 image written by make-state-v1.py from the layout alone: every later build must
// still read it, with these exact records, order and creations.
using System.Text;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Restart;
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.State;

public class StateImageFixtureTests
{
    private static byte[] Fixture() =>
        File.ReadAllBytes(Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.Tests", "Unit", "State", "state-v1.bin"));

    [Test]
    public void Version_1_fixture_decodes_with_every_field()
    {
        var decoded = StateImage.Decode(Fixture(), out string? reason);
        Assert.That(reason, Is.Null);
        Assert.That(decoded!.SlotCount, Is.EqualTo(4));
        var byName = decoded.Records.ToDictionary(r => Encoding.ASCII.GetString(r.Name));
        Assert.That(byName.Keys, Is.EquivalentTo(new[] { "alpha", "beta", "gamma" }));
        var beta = byName["beta"];
        Assert.Multiple(() =>
        {
            Assert.That(beta.Slot, Is.EqualTo(2));
            Assert.That(beta.State, Is.EqualTo(NodeState.Registered));
            Assert.That(beta.Port, Is.EqualTo(5002));
            Assert.That(beta.NodeType, Is.EqualTo(77));
            Assert.That(beta.Protocol, Is.EqualTo(1));
            Assert.That(beta.HighestVersion, Is.EqualTo(6));
            Assert.That(beta.LowestVersion, Is.EqualTo(5));
            Assert.That(beta.Extra, Is.EqualTo(new byte[] { 0, 1 }));
            Assert.That(beta.Creation, Is.EqualTo(0x6553F102u));
            Assert.That(beta.Fd, Is.EqualTo(8));
            Assert.That(beta.Key, Is.EqualTo(2UL));
            Assert.That(beta.Sequence, Is.EqualTo(2UL));
            Assert.That(byName["gamma"].State, Is.EqualTo(NodeState.Remembered));
            Assert.That(byName["gamma"].Extra, Is.EqualTo("x1"u8.ToArray()));
        });
    }

    [Test]
    public void Version_1_fixture_restores_to_these_replies()
    {
        var registry = new NodeRegistry();
        var decoded = StateImage.Decode(Fixture(), out _)!;
        registry.Restore(decoded.SlotCount, decoded.Records);
        registry.Adopt(registry.FindRegistered("alpha"u8), 11, 7);
        registry.Adopt(registry.FindRegistered("beta"u8), 12, 8);
        var service = new EpmdService(new EpmdOptions(), registry, Log.Silent, () => 1_700_000_000);
        var reply = new byte[Limits.MaxSmallReply];
        var names = service.Snapshots.Bytes(service.Handle(Hex.Parse("6e"), true, 1, 9, reply).Snapshot);
        Assert.That(Encoding.ASCII.GetString(names[4..]), Is.EqualTo("name beta at port 5002\nname alpha at port 5001\n"));
        var dump = service.Snapshots.Bytes(service.Handle(Hex.Parse("64"), true, 1, 9, reply).Snapshot);
        Assert.That(Encoding.ASCII.GetString(dump[4..]), Is.EqualTo(
            "active name     <beta> at port 5002, fd = 8\n\0" +
            "active name     <alpha> at port 5001, fd = 7\n\0" +
            "old/unused name <gamma>, port = 5003, fd = 9 \n\0"));
        // gamma comes back with the next creation after the stored one.
        Assert.That(registry.Register("gamma"u8, default, 5003, 72, 0, 6, 5, 13, 10, 1_700_000_000, out int record), Is.EqualTo(RegisterStatus.Registered));
        Assert.That(registry[record].Creation, Is.EqualTo(0x6553F106u));
    }
}

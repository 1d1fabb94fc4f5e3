// The handoff records: literal bytes in, fields out, and everything malformed refused.
using FastEpmd.Upgrade;

namespace FastEpmd.Tests.Unit.Upgrade;

public class HandoffWireTests
{
    [Test]
    public void Hello_is_magic_type_protocol_room_and_formats()
    {
        var record = new byte[HandoffWire.MaxHelloLength];
        int n = HandoffWire.WriteHello(record, 20000, new ushort[] { 2, 1 });
        Assert.That(record.AsSpan(0, n).ToArray(), Is.EqualTo(Hex.Parse("46 45 55 50 48 00 02 00 00 4e 20 02 00 02 00 01")));
        Assert.That(HandoffWire.TryReadHello(record.AsSpan(0, n), out var hello), Is.True);
        Assert.That(hello.Protocol, Is.EqualTo(2));
        Assert.That(hello.DescriptorRoom, Is.EqualTo(20000));
        Assert.That(hello.Formats, Is.EqualTo(new ushort[] { 2, 1 }));
    }

    [TestCase("46 45 55 50 48 00 01 00 00 4e 20 02 00 02", TestName = "Hello cut inside its formats")]
    [TestCase("46 45 55 50 48 00 01 00 00 4e 20 00 ff", TestName = "Hello with a byte after its formats")]
    [TestCase("46 45 55 50 48 00 01 00 00", TestName = "Hello without a format count")]
    [TestCase("46 45 55 51 48 00 01 00 00 4e 20 00", TestName = "Hello with another magic")]
    [TestCase("46 45 55 50 4f 00 01 00 00 4e 20 00", TestName = "an Offer is not a Hello")]
    [TestCase("47 45 54 20 2f 20 48 54 54 50", TestName = "HTTP is not a Hello")]
    public void Malformed_hellos_are_refused(string hex) =>
        Assert.That(HandoffWire.TryReadHello(Hex.Parse(hex), out _), Is.False);

    [Test]
    public void More_formats_than_MaxFormats_is_not_a_hello()
    {
        var record = Hex.Cat(Hex.Parse("46 45 55 50 48 00 01 00 00 00 10 11"), new byte[17 * 2]);
        Assert.That(HandoffWire.TryReadHello(record, out _), Is.False);
    }

    [Test]
    public void Offer_round_trips_through_its_literal_bytes()
    {
        var record = new byte[64];
        int n = HandoffWire.WriteOffer(record, new HandoffOffer(1, 3, 0x01020304, 258, 4242));
        Assert.That(record.AsSpan(0, n).ToArray(),
            Is.EqualTo(Hex.Parse("46 45 55 50 4f 00 01 00 03 01 02 03 04 00 00 01 02 00 00 10 92")));
        Assert.That(HandoffWire.TryReadOffer(record.AsSpan(0, n), out var offer), Is.True);
        Assert.That(offer, Is.EqualTo(new HandoffOffer(1, 3, 0x01020304, 258, 4242)));
        Assert.That(HandoffWire.TryReadOffer(record.AsSpan(0, n - 1), out _), Is.False);
    }

    [Test]
    public void A_batch_lists_role_and_key_per_descriptor_and_must_match_the_descriptors_that_came()
    {
        var record = new byte[HandoffWire.MaxMessage];
        int n = HandoffWire.WriteBatchHeader(record, 2);
        n += HandoffWire.WriteEntry(record.AsSpan(n), DescriptorRole.EpmdListener, 0);
        n += HandoffWire.WriteEntry(record.AsSpan(n), DescriptorRole.Alive, 0x1122334455667788);
        Assert.That(record.AsSpan(0, n).ToArray(), Is.EqualTo(Hex.Parse(
            "46 45 55 50 44 00 02  00 00 00 00 00 00 00 00 00  03 11 22 33 44 55 66 77 88")));
        Assert.That(HandoffWire.TryReadBatch(record.AsSpan(0, n), 2, out int count), Is.True);
        Assert.That(count, Is.EqualTo(2));
        Assert.That(HandoffWire.Entry(record.AsSpan(0, n), 1), Is.EqualTo((DescriptorRole.Alive, 0x1122334455667788UL)));
        Assert.That(HandoffWire.TryReadBatch(record.AsSpan(0, n), 1, out _), Is.False, "one descriptor missing");
        Assert.That(HandoffWire.TryReadBatch(record.AsSpan(0, n - 1), 2, out _), Is.False, "an entry cut");
    }

    [Test]
    public void A_refusal_reason_is_bounded_and_printable()
    {
        var record = new byte[HandoffWire.HeaderLength + HandoffWire.MaxReason];
        int n = HandoffWire.WriteRefuse(record, "bad\nformat" + new string('x', 500));
        Assert.That(n, Is.EqualTo(HandoffWire.HeaderLength + HandoffWire.MaxReason));
        string reason = HandoffWire.Reason(record.AsSpan(0, n));
        Assert.That(reason, Does.StartWith("bad?format"));
        Assert.That(reason, Has.Length.EqualTo(HandoffWire.MaxReason));
    }

    [Test]
    public void The_sender_writes_the_newest_format_the_receiver_reads_else_its_own_newest()
    {
        Assert.That(HandoffSession.ChooseFormat(new ushort[] { 1, 2 }, new ushort[] { 1 }), Is.EqualTo(1));
        Assert.That(HandoffSession.ChooseFormat(new ushort[] { 1, 2 }, new ushort[] { 3, 2, 1 }), Is.EqualTo(2));
        Assert.That(HandoffSession.ChooseFormat(new ushort[] { 2 }, new ushort[] { 7 }), Is.EqualTo(2));
    }
}

// The state image: a registry's records encode, decode and validate; a cut or foreign image is
// refused with its reason; a slot torn by a kill drops only that slot.
using System.Buffers.Binary;
using System.Text;
using FastEpmd.Registry;
using FastEpmd.Restart;

namespace FastEpmd.Tests.Unit.State;

public class StateImageTests
{
    private const long T0 = 1_700_000_000;

    internal static NodeRegistry Sample()
    {
        var registry = new NodeRegistry();
        ulong owner = 1;
        foreach (var (name, port) in new[] { ("alpha", 5001), ("beta", 5002), ("gamma", 5003), ("delta", 5004) })
        {
            registry.Register(Encoding.UTF8.GetBytes(name), Hex.Parse("41 00 42"), (ushort)port, 77, 0, 6, 5, owner++, 10 + port % 10,
                T0, out _);
        }
        registry.Unregister(registry.FindRegistered("gamma"u8));
        registry.Unregister(registry.FindRegistered("alpha"u8));
        return registry;
    }

    private static byte[] Encode(NodeRegistry registry)
    {
        var image = new byte[StateImage.Measure(registry)];
        Assert.That(StateImage.Encode(registry, image), Is.EqualTo(image.Length));
        return image;
    }

    [Test]
    public void Checksum_is_crc32c_and_continues()
    {
        // The CRC32C check value of "123456789".
        Assert.That(StateChecksum.Compute("123456789"u8), Is.EqualTo(0xE3069283u));
        Assert.That(StateChecksum.Continue(StateChecksum.Compute("1234"u8), "56789"u8), Is.EqualTo(0xE3069283u));
    }

    [Test]
    public void Encode_then_decode_gives_every_field_back()
    {
        var registry = Sample();
        var decoded = StateImage.Decode(Encode(registry), out string? reason);
        Assert.That(reason, Is.Null);
        Assert.That(decoded!.SlotCount, Is.EqualTo(4));
        Assert.That(decoded.Dropped, Is.Empty);
        Assert.That(decoded.Records, Has.Count.EqualTo(4));
        foreach (var r in decoded.Records)
        {
            var original = registry[r.Slot];
            Assert.Multiple(() =>
            {
                Assert.That(r.State, Is.EqualTo(original.State));
                Assert.That(r.Port, Is.EqualTo(original.Port));
                Assert.That(r.NodeType, Is.EqualTo(original.NodeType));
                Assert.That(r.HighestVersion, Is.EqualTo(original.HighestVersion));
                Assert.That(r.LowestVersion, Is.EqualTo(original.LowestVersion));
                Assert.That(r.Creation, Is.EqualTo(original.Creation));
                Assert.That(r.Fd, Is.EqualTo(original.Fd));
                Assert.That(r.Key, Is.EqualTo(original.Key));
                Assert.That(r.Sequence, Is.EqualTo(original.Sequence));
                Assert.That(r.Name, Is.EqualTo(registry.Name(r.Slot).ToArray()));
                Assert.That(r.Extra, Is.EqualTo(registry.Extra(r.Slot).ToArray()));
            });
        }
    }

    [Test]
    public void Encode_into_a_caller_buffer_allocates_nothing()
    {
        var registry = Sample();
        var image = new byte[StateImage.Measure(registry)];
        StateImage.Encode(registry, image);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) StateImage.Encode(registry, image);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [TestCase(0, "shorter than its 32-byte header")]
    [TestCase(31, "shorter than its 32-byte header")]
    [TestCase(32, "truncated: 32 of 8480 bytes")]
    [TestCase(8479, "truncated: 8479 of 8480 bytes")]
    public void A_truncated_image_is_refused(int length, string why)
    {
        var image = Encode(Sample());
        Assert.That(StateImage.Decode(image.AsSpan(0, length), out string? reason), Is.Null);
        Assert.That(reason, Does.Contain(why));
    }

    [Test]
    public void An_unknown_version_is_refused()
    {
        var image = Encode(Sample());
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(4), 2);
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image format version 2 is unknown (this build reads 1..1)"));
    }

    [TestCase(0, "no FEST magic")]
    [TestCase(12, "header checksum mismatch")]
    [TestCase(24, "header checksum mismatch")]
    public void A_changed_header_byte_is_refused(int offset, string why)
    {
        var image = Encode(Sample());
        image[offset] ^= 0x40;
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Does.Contain(why));
    }

    [Test]
    public void A_torn_slot_drops_that_record_only()
    {
        var registry = Sample();
        var image = Encode(registry);
        int beta = registry.FindRegistered("beta"u8);
        image[StateSlot.OffsetOf(beta) + StateSlot.FixedLength + 1] ^= 1;   // a byte of its name
        var decoded = StateImage.Decode(image, out string? reason);
        Assert.That(reason, Is.Null);
        Assert.That(decoded!.Dropped, Is.EqualTo(new[] { (beta, "checksum mismatch (a write cut short?)") }));
        Assert.That(decoded.Records.Select(r => Encoding.UTF8.GetString(r.Name)), Is.EquivalentTo(new[] { "alpha", "gamma", "delta" }));
    }

    [Test]
    public void A_slot_copied_to_another_place_fails_its_checksum()
    {
        var registry = Sample();
        var image = Encode(registry);
        image.AsSpan(StateSlot.OffsetOf(0), StateSlot.Stride).CopyTo(image.AsSpan(StateSlot.OffsetOf(3)));
        var decoded = StateImage.Decode(image, out _);
        Assert.That(decoded!.Dropped.Select(d => d.Slot), Is.EqualTo(new[] { 3 }));
    }

    /// <summary>Rewrites a slot field and its checksum: a well-formed slot with a bad value.</summary>
    private static byte[] WithField(Action<Span<byte>> change, int slot = 1)
    {
        var image = Encode(Sample());
        var s = image.AsSpan(StateSlot.OffsetOf(slot), StateSlot.Stride);
        change(s);
        int variable = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(10)) + BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(12));
        uint crc = StateChecksum.Continue(StateChecksum.Compute(s.Slice(0, 44), (uint)slot), s.Slice(48, Math.Min(variable, StateSlot.Stride - 48)));
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(44), crc);
        return image;
    }

    [Test]
    public void A_name_over_the_wire_limit_is_refused()
    {
        var image = WithField(s => BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(10), 1021));
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image slot 1: name of 1021 bytes"));
    }

    [Test]
    public void An_extra_over_the_wire_limit_is_refused()
    {
        var image = WithField(s => BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(12), 1021));
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image slot 1: extra of 1021 bytes"));
    }

    [Test]
    public void A_nul_in_a_name_is_refused()
    {
        var image = WithField(s => s[48] = 0);
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image slot 1: NUL in the name"));
    }

    [Test]
    public void An_unknown_state_is_refused()
    {
        var image = WithField(s => s[0] = 3);
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image slot 1: state 3 is neither registered nor remembered"));
    }

    [Test]
    public void A_name_twice_is_refused()
    {
        // Slot 1 is beta: give it alpha's name (slot 0).
        var named = WithField(s =>
        {
            BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(10), 5);
            "alpha"u8.CopyTo(s.Slice(48));
            BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(12), 0);
        });
        Assert.That(StateImage.Decode(named, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image slot 1: name registered twice"));
    }

    [Test]
    public void A_key_twice_is_refused()
    {
        var image = WithField(s => BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(24), 1));
        Assert.That(StateImage.Decode(image, out string? reason), Is.Null);
        Assert.That(reason, Is.EqualTo("state image slot 1: key 1 used twice"));
    }

    [Test]
    public void Alive_names_round_trip_and_malformed_ones_are_not_keys()
    {
        var buffer = new byte[StoreNames.MaxAliveNameLength];
        int n = StoreNames.WriteAlive(buffer, ulong.MaxValue);
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("alive-18446744073709551615"));
        Assert.That(StoreNames.TryParseAlive("alive-18446744073709551615", out ulong key) && key == ulong.MaxValue, Is.True);
        foreach (var bad in new[] { "alive-", "alive-0", "alive-01", "alive-1x", "alive-18446744073709551616", "stored", "state" })
            Assert.That(StoreNames.TryParseAlive(bad, out _), Is.False, bad);
    }
}

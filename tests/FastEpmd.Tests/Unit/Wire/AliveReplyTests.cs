// ALIVE2_X_RESP / ALIVE2_RESP bytes: v or y by version, 99 on refusal, cr % 3 + 1 for v5.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class AliveReplyTests
{
    /// <summary>The written bytes; the rest of the buffer must stay untouched.</summary>
    private static string Written(Func<byte[], int> write)
    {
        var buffer = new byte[16];
        Array.Fill(buffer, (byte)0xee);
        int n = write(buffer);
        Assert.That(buffer.Skip(n), Is.All.EqualTo((byte)0xee), "wrote past the returned length");
        return Hex.Format(buffer.AsSpan(0, n));
    }

    [TestCase((ushort)6)]
    [TestCase((ushort)7)]
    [TestCase((ushort)65535)]
    public void Refusal_from_version_6_is_x_resp_with_creation_99(ushort hi)
    {
        Assert.That(Written(b => AliveReply.WriteRefused(b, hi)), Is.EqualTo("76 01 00 00 00 63"));
    }

    [TestCase((ushort)5)]
    [TestCase((ushort)1)]
    [TestCase((ushort)0)]
    public void Refusal_below_version_6_is_resp_with_creation_99(ushort hi)
    {
        Assert.That(Written(b => AliveReply.WriteRefused(b, hi)), Is.EqualTo("79 01 00 63"));
    }

    [Test]
    public void Success_from_version_6_carries_the_full_32_bit_creation()
    {
        Assert.That(Written(b => AliveReply.WriteSuccess(b, 6, 0x6a1b2c3du)), Is.EqualTo("76 00 6a 1b 2c 3d"));
        Assert.That(Written(b => AliveReply.WriteSuccess(b, 65535, 0xfffffffeu)), Is.EqualTo("76 00 ff ff ff fe"));
        Assert.That(Written(b => AliveReply.WriteSuccess(b, 6, 4u)), Is.EqualTo("76 00 00 00 00 04"));
    }

    [TestCase(4u, "79 00 00 02")]
    [TestCase(5u, "79 00 00 03")]
    [TestCase(6u, "79 00 00 01")]
    [TestCase(7u, "79 00 00 02")]
    [TestCase(0x6a1b2c3du, "79 00 00 02")]   // 1780165693 % 3 == 1
    [TestCase(0xffffffffu, "79 00 00 01")]   // 4294967295 % 3 == 0
    public void Success_below_version_6_is_creation_mod_3_plus_1(uint creation, string expected)
    {
        Assert.That(Written(b => AliveReply.WriteSuccess(b, 5, creation)), Is.EqualTo(expected));
        Assert.That(Written(b => AliveReply.WriteSuccess(b, 0, creation)), Is.EqualTo(expected));
    }

    [Test]
    public void Consecutive_creations_cycle_1_2_3_for_version_5()
    {
        var seen = Enumerable.Range(0, 6).Select(i => Written(b => AliveReply.WriteSuccess(b, 5, 1_700_000_001u + (uint)i)));
        // 1700000001 % 3 == 0
        Assert.That(seen, Is.EqualTo(new[] { "79 00 00 01", "79 00 00 02", "79 00 00 03", "79 00 00 01", "79 00 00 02", "79 00 00 03" }));
    }
}

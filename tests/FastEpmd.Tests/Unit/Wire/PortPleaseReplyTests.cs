// PORT2_RESP bytes.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class PortPleaseReplyTests
{
    [Test]
    public void Found_echoes_the_registration()
    {
        var buffer = new byte[Limits.MaxSmallReply];
        int n = PortPleaseReply.WriteFound(buffer, 0x457, 0x4d, 0, 6, 5, Hex.Parse("6e 36"), Array.Empty<byte>());
        Assert.That(Hex.Format(buffer.AsSpan(0, n)), Is.EqualTo(Hex.Format(Hex.Parse("77 00 0457 4d 00 0006 0005 0002 6e36 0000"))));
    }

    [Test]
    public void Found_echoes_odd_versions_and_an_extra_with_nuls()
    {
        var buffer = new byte[Limits.MaxSmallReply];
        int n = PortPleaseReply.WriteFound(buffer, 0xffff, 0x48, 0x07, 0xffff, 0xfffe,
            Hex.Parse("f0 9f 98 88"), Hex.Parse("41 42 43 00 00"));
        Assert.That(Hex.Format(buffer.AsSpan(0, n)),
            Is.EqualTo(Hex.Format(Hex.Parse("77 00 ffff 48 07 ffff fffe 0004 f09f9888 0005 4142430000"))));
    }

    [Test]
    public void Largest_reply_is_2054_bytes_and_fits_the_small_reply_buffer()
    {
        var buffer = new byte[Limits.MaxSmallReply];
        var name = TestBytes.Repeat("61", 1020);
        var extra = TestBytes.Repeat("ff", 1020);
        int n = PortPleaseReply.WriteFound(buffer, 1, 77, 0, 6, 5, name, extra);
        // 'w' 0, then 10 bytes of fields, 2 + 1020 name, 2 + 1020 extra. (Spec 2.1 says 2056:
        // it counts the fixed part as 2 + 12; Limits.MaxSmallReply keeps that bound.)
        Assert.That(n, Is.EqualTo(2054));
        Assert.That(n, Is.LessThanOrEqualTo(Limits.MaxSmallReply));
        Assert.That(Hex.Format(buffer.AsSpan(0, 12)), Is.EqualTo("77 00 00 01 4d 00 00 06 00 05 03 fc"));
        Assert.That(buffer.AsSpan(12, 1020).ToArray(), Is.EqualTo(name));
        Assert.That(Hex.Format(buffer.AsSpan(1032, 2)), Is.EqualTo("03 fc"));
        Assert.That(buffer.AsSpan(1034, 1020).ToArray(), Is.EqualTo(extra));
    }

    [Test]
    public void Not_found_is_two_bytes()
    {
        var buffer = new byte[8];
        Array.Fill(buffer, (byte)0xee);
        int n = PortPleaseReply.WriteNotFound(buffer);
        Assert.That(Hex.Format(buffer), Is.EqualTo("77 01 ee ee ee ee ee ee"));
        Assert.That(n, Is.EqualTo(2));
    }
}

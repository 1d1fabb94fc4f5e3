// Spec section 4: which peers are local. Every address in 127.0.0.0/8 and ::1 is local, so the
// local-only requests (ALIVE2, DUMP, KILL, STOP) are served from them. Non-local peers cannot be
// produced with loopback traffic only, so the refusal side is not covered here.
using System.Net.Sockets;
using System.Text;
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class AccessTests
{
    private const string OtherLoopback = "127.0.0.2";

    private static byte[] ExchangeFrom(DaemonProcess d, string hex)
    {
        using var s = ConnectFrom(d, OtherLoopback);
        s.Send(Hex.Parse(hex));
        var data = ReadUntilClosed(s, Quick, out var closed);
        Assert.That(closed, Is.True, $"the daemon should close after replying; got [{Hex.Format(data)}]");
        return data;
    }

    [Test]
    public void AliveFromAnyAddressIn127Slash8IsLocal()
    {
        using var d = Start();
        using var s = ConnectFrom(d, OtherLoopback);
        s.Send(Hex.Parse("00 10 78 04 12 4d 00 00 05 00 05 00 03 66 6f 6f 00 00"));
        var reply = new byte[4];
        int got = 0;
        s.ReceiveTimeout = (int)Quick.TotalMilliseconds;
        try
        {
            for (int n = 1; got < 4 && n > 0; got += n) n = s.Receive(reply, got, 4 - got, SocketFlags.None);
        }
        catch (SocketException)
        {
        }
        Assert.That(Hex.Format(reply.AsSpan(0, Math.Min(2, got))), Is.EqualTo("79 00"), "ALIVE2 from 127.0.0.2 is accepted");
        Assert.That(got, Is.EqualTo(4));
        var more = ReadUntilClosed(s, TimeSpan.FromMilliseconds(300), out var closed);
        Assert.That(more, Is.Empty);
        Assert.That(closed, Is.False, "the ALIVE socket is kept");
        Assert.That(Names(d), Is.EqualTo("name foo at port 1042\n"));
    }

    [Test]
    public void DumpFromAnyAddressIn127Slash8IsLocal()
    {
        using var d = Start();
        using var node = Register(d, "foo", 1042);
        var data = ExchangeFrom(d, "00 01 64");
        AssertHex(data.AsSpan(0, 4).ToArray(), Hex.Format(BigEndian32((uint)d.Port)));
        Assert.That(NormaliseFds(Encoding.ASCII.GetString(data, 4, data.Length - 4)),
            Is.EqualTo("active name     <foo> at port 1042, fd = F\n\0"));
    }

    [Test]
    public void KillFromAnyAddressIn127Slash8IsLocal()
    {
        using var d = Start();
        AssertHex(ExchangeFrom(d, "00 01 6b"), "4f 4b");
        Assert.That(d.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0));
    }

    [Test]
    public void StopFromAnyAddressIn127Slash8IsLocal()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        AssertHex(ExchangeFrom(d, "00 04 73 66 6f 6f"), "53 54 4f 50 50 45 44");
        AssertClosedSilently(node);
    }

    [Test]
    public void StopFromIpv6LoopbackIsLocal()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        AssertHex(Query(d, Hex.Parse("00 04 73 66 6f 6f"), host: "::1"), "53 54 4f 50 50 45 44");
        AssertClosedSilently(node);
    }

    [Test]
    public void QueriesFromAnyLoopbackAreAnswered()
    {
        using var d = Start();
        using var node = Register(d, "foo", 1042);
        AssertHex(ExchangeFrom(d, "00 04 7a 66 6f 6f"), "77 00 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00");
        AssertHex(ExchangeFrom(d, "00 01 6e"),
            Hex.Format(BigEndian32((uint)d.Port)) + " " + Hex.Format(Hex.Ascii("name foo at port 1042\n")));
    }
}

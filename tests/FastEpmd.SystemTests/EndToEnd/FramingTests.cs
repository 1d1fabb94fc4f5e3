// Spec section 0: the 2-byte length frame, its limits, coalesced and split requests, unknown tags,
// half-close, and the packet (idle) timeout of section 2.3.
using System.Diagnostics;
using System.Net.Sockets;
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class FramingTests
{
    // OTP's epmd_SUITE starts every daemon with -packet_timeout 1 and expects these to be closed.
    private static void AssertClosedByPacketTimeout(string hexToSend)
    {
        using var d = Start("-packet_timeout", "1");
        var sinceConnect = Stopwatch.StartNew();
        using var c = d.Connect();
        if (hexToSend.Length > 0) c.Send(hexToSend);
        var seconds = SecondsUntilClosed(c, TimeSpan.FromSeconds(6));
        Assert.That(seconds, Is.Not.Null, "an incomplete request must be closed by the packet timeout");
        Assert.That(sinceConnect.Elapsed.TotalSeconds, Is.GreaterThan(0.7), "closed well before the 1 s packet timeout ran out");
    }

    [Test]
    public void NoData() => AssertClosedByPacketTimeout("");

    [Test]
    public void OneByte() => AssertClosedByPacketTimeout("00");

    [Test]
    public void TwoBytes() => AssertClosedByPacketTimeout("00 03");

    [Test]
    public void PartialPacket() =>
        AssertClosedByPacketTimeout("00 64" + Hex.Format(Hex.Ascii("only a few bytes")));

    [Test]
    public void PartialPacketStaysOpenUntilPacketTimeout()
    {
        using var d = Start();
        using var c = d.Connect();
        c.Send(Hex.Cat(Hex.Parse("00 64"), Hex.Ascii("only a few bytes")));
        Assert.That(c.StaysOpenFor(TimeSpan.FromSeconds(1.5)), Is.True,
            "a header claiming more bytes than sent waits for them (default packet timeout 60 s)");
    }

    [Test]
    public void ZeroLength()
    {
        using var d = Start();
        using var c = d.Connect();
        c.Send("00 00 00 00 00 00 00 00 00 00");
        AssertClosedSilently(c);
    }

    [Test]
    public void ZeroLengthHeaderOnly()
    {
        using var d = Start();
        AssertSilentClose(d, "00 00");
    }

    [Test]
    public void TooLarge()
    {
        using var d = Start();
        using var c = d.Connect();
        var request = Hex.Cat(Hex.Parse("f6 18"), Repeat(Hex.Ascii("z"), 63000));
        try
        {
            c.Send(request);
        }
        catch (SocketException)
        {
            // The daemon closes after the header; the rest of a big send may hit the RST.
        }
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Data, Is.Empty);
        Assert.That(r.Closed, Is.True);
    }

    [TestCase("0b f2", TestName = "LengthAboveLimitClosesAfterHeader(3058)")]
    [TestCase("0f a0", TestName = "LengthAboveLimitClosesAfterHeader(4000)")]
    [TestCase("ff ff", TestName = "LengthAboveLimitClosesAfterHeader(65535)")]
    public void LengthAboveLimitClosesAfterHeader(string header)
    {
        using var d = Start();
        // Only the header is sent: the daemon must not wait for the payload.
        AssertSilentClose(d, header);
    }

    [Test]
    public void LengthAtLimitIsServed()
    {
        using var d = Start();
        // NAMES with 3056 ignored bytes: Length 3057 (0x0bf1), the largest accepted.
        var request = Hex.Cat(Hex.Parse("0b f1 6e"), Repeat(Hex.Ascii("X"), 3056));
        AssertHex(Query(d, request), Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void LengthJustAboveLimitWithPayloadClosesSilently()
    {
        using var d = Start();
        var request = Hex.Cat(Hex.Parse("0b f2 6e"), Repeat(Hex.Ascii("X"), 3057));
        using var c = d.Connect();
        try
        {
            c.Send(request);
        }
        catch (SocketException)
        {
        }
        AssertClosedSilently(c);
    }

    [Test]
    public void CoalescedTrailingByteClosesWithoutReply()
    {
        using var d = Start();
        AssertSilentClose(d, "00 01 6e 00");
    }

    [Test]
    public void TwoNamesFramesInOneSegmentCloseWithoutReply()
    {
        using var d = Start();
        AssertSilentClose(d, "00 01 6e 00 01 6e");
    }

    [Test]
    public void PortPleaseWithTrailingByteClosesWithoutReply()
    {
        using var d = Start();
        using var node = Register(d, "foo");
        AssertSilentClose(d, "00 04 7a 66 6f 6f 41");
    }

    [Test]
    public void LateTrailingByteDoesNotCancelReply()
    {
        // -delay_write 1 holds the reply for a second; the byte sent meanwhile is never read.
        using var d = Start("-delay_write", "1");
        using var c = d.Connect();
        c.Send("00 01 6e");
        WaitUntilDaemonHasRead(d, c);
        c.Send("41");
        var r = c.ReadToEnd(TimeSpan.FromSeconds(4));
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void SplitRequestByteByByteNames()
    {
        using var d = Start();
        using var c = d.Connect();
        foreach (var b in Hex.Parse("00 01 6e"))
        {
            c.Send(new[] { b });
            Thread.Sleep(30);
        }
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void SplitRequestByteByBytePortPlease()
    {
        using var d = Start();
        using var node = Register(d, Hex.Parse("00 10 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00"), out _);
        using var c = d.Connect();
        foreach (var b in Hex.Parse("00 04 7a 66 6f 6f"))
        {
            c.Send(new[] { b });
            Thread.Sleep(30);
        }
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, "77 00 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00");
    }

    [Test]
    public void SplitRequestByteByByteAlive()
    {
        using var d = Start();
        using var c = d.Connect();
        foreach (var b in Hex.Parse("00 10 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00"))
        {
            c.Send(new[] { b });
            Thread.Sleep(20);
        }
        var reply = c.ReadExactly(6, Quick);
        Assert.That(Hex.Format(reply.AsSpan(0, Math.Min(2, reply.Length))), Is.EqualTo("76 00"));
        Assert.That(reply, Has.Length.EqualTo(6));
        Assert.That(IsRegistered(d, "foo"), Is.True);
    }

    [Test]
    public void SplitRequestInTwoSegments()
    {
        using var d = Start();
        using var c = d.Connect();
        c.Send("00");
        Thread.Sleep(100);
        c.Send("01 6e");
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void HalfCloseAfterFullRequestStillAnswered()
    {
        using var d = Start();
        using var c = d.Connect();
        c.Send("00 01 6e");
        c.Socket.Shutdown(SocketShutdown.Send);
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void HalfCloseAfterFullPortPleaseStillAnswered()
    {
        using var d = Start();
        using var c = d.Connect();
        c.Send("00 04 7a 66 6f 6f");
        c.Socket.Shutdown(SocketShutdown.Send);
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, "77 01");
    }

    [Test]
    public void HalfCloseBeforeRequestCompleteClosesSilently()
    {
        using var d = Start();
        using var c = d.Connect();
        c.Send("00 05 6e");
        c.Socket.Shutdown(SocketShutdown.Send);
        AssertClosedSilently(c);
    }

    [TestCase("00 01 61", TestName = "UnknownTagClosesSilently(a old ALIVE_REQ)")]
    [TestCase("00 01 70", TestName = "UnknownTagClosesSilently(p old PORT_REQ)")]
    [TestCase("00 01 72", TestName = "UnknownTagClosesSilently(r)")]
    [TestCase("00 01 63", TestName = "UnknownTagClosesSilently(c)")]
    [TestCase("00 01 79", TestName = "UnknownTagClosesSilently(y)")]
    [TestCase("00 01 76", TestName = "UnknownTagClosesSilently(v)")]
    [TestCase("00 01 77", TestName = "UnknownTagClosesSilently(w)")]
    [TestCase("00 01 5a", TestName = "UnknownTagClosesSilently(Z)")]
    [TestCase("00 01 4e", TestName = "UnknownTagClosesSilently(N uppercase)")]
    [TestCase("00 01 00", TestName = "UnknownTagClosesSilently(NUL)")]
    [TestCase("00 01 ff", TestName = "UnknownTagClosesSilently(ff)")]
    [TestCase("00 04 61 62 63 64", TestName = "UnknownTagClosesSilently(abcd)")]
    [TestCase("00 06 70 00 66 6f 6f 00", TestName = "UnknownTagClosesSilently(old PORT_REQ with name)")]
    public void UnknownTagClosesSilently(string request)
    {
        using var d = Start();
        AssertSilentClose(d, request);
    }

    [Test]
    public void PacketTimeoutClosesIdleConnection()
    {
        using var d = Start("-packet_timeout", "2");
        var sw = Stopwatch.StartNew();
        using var c = d.Connect();
        Assert.That(c.StaysOpenFor(TimeSpan.FromSeconds(1.5)), Is.True, "closed well before the 2 s packet timeout");
        var r = c.ReadToEnd(TimeSpan.FromSeconds(6));
        Assert.That(r.Closed, Is.True, "an idle connection must be closed after the packet timeout");
        Assert.That(r.Data, Is.Empty);
        Assert.That(sw.Elapsed.TotalSeconds, Is.InRange(1.8, 7.5));
        // The daemon is still serving.
        AssertHex(Query(d, "00 01 6e"), Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void PacketTimeoutDoesNotCloseAnsweredQueriesEarly()
    {
        // An ordinary query on a daemon with a short timeout is answered normally.
        using var d = Start("-packet_timeout", "1");
        AssertHex(Query(d, "00 04 7a 66 6f 6f"), "77 01");
    }
}

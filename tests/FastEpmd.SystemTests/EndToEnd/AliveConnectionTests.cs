// Spec sections 3.2-3.4: the kept ALIVE2 connection and everything that ends a registration.
using System.Net.Sockets;
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class AliveConnectionTests
{
    // ALIVE2_REQ "foo" at port 1042 (04 12), type M, hi 6, lo 5, empty extra.
    private const string FooV6 = "00 10 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00";

    [Test]
    public void FinUnregisters()
    {
        using var d = Start();
        var c = Register(d, Hex.Parse(FooV6), out _);
        Assert.That(IsRegistered(d, "foo"), Is.True);
        c.Socket.Close();
        WaitUnregistered(d, "foo");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void HalfCloseUnregisters()
    {
        using var d = Start();
        using var c = Register(d, Hex.Parse(FooV6), out _);
        c.Socket.Shutdown(SocketShutdown.Send);
        // The daemon answers the FIN by closing its side, with no byte.
        AssertClosedSilently(c);
        WaitUnregistered(d, "foo");
    }

    [TestCase("00", TestName = "AnyByteOnAliveSocketUnregisters(one NUL)")]
    [TestCase("41", TestName = "AnyByteOnAliveSocketUnregisters(one A)")]
    [TestCase("00 01 6e", TestName = "AnyByteOnAliveSocketUnregisters(a valid NAMES)")]
    [TestCase("00 10 78 04 13 4d 00 00 06 00 05 00 03 62 61 72 00 00", TestName = "AnyByteOnAliveSocketUnregisters(a second ALIVE2)")]
    public void AnyByteOnAliveSocketUnregisters(string bytes)
    {
        using var d = Start();
        using var c = Register(d, Hex.Parse(FooV6), out _);
        c.Send(bytes);
        AssertClosedSilently(c);
        WaitUnregistered(d, "foo");
        Assert.That(IsRegistered(d, "bar"), Is.False, "a second request on an ALIVE socket is never served");
        Assert.That(Names(d), Is.Empty);
    }

    // A byte on an ALIVE socket ends it; the daemon reads what is pending before closing, so the
    // peer sees a FIN (recv returns 0) and not an RST, as with OTP.
    [TestCase("registered", "00 01 6e", TestName = "BytesOnAliveSocketGetAFinNotAReset(registered, NAMES)")]
    [TestCase("registered", "many", TestName = "BytesOnAliveSocketGetAFinNotAReset(registered, 2000 bytes)")]
    [TestCase("refused", "41", TestName = "BytesOnAliveSocketGetAFinNotAReset(refused, one byte)")]
    public void BytesOnAliveSocketGetAFinNotAReset(string which, string bytes)
    {
        using var d = Start();
        using var owner = Register(d, Hex.Parse(FooV6), out _);
        RawEpmdClient? dup = null;
        if (which == "refused")
        {
            dup = SendAlive(d, Hex.Parse(FooV6), 6, out var reply);
            AssertHex(reply, "76 01 00 00 00 63");
        }
        using var target = dup ?? owner;
        target.Send(bytes == "many" ? Repeat(Hex.Parse("61"), 2000) : Hex.Parse(bytes));
        Assert.That(target.Socket.Poll(5_000_000, SelectMode.SelectRead), Is.True, "the daemon did not close the ALIVE socket");
        int n = -1;
        SocketError error = SocketError.Success;
        try
        {
            n = target.Socket.Receive(new byte[64]);
        }
        catch (SocketException e)
        {
            error = e.SocketErrorCode;
        }
        Assert.That(error, Is.EqualTo(SocketError.Success), "the daemon reset the connection instead of closing it");
        Assert.That(n, Is.Zero, "EOF with no byte first");
        if (which == "registered") WaitUnregistered(d, "foo");
        else Assert.That(IsRegistered(d, "foo"), Is.True, "the owner keeps its name");
    }

    [Test]
    public void RstUnregisters()
    {
        using var d = Start();
        var c = Register(d, Hex.Parse(FooV6), out _);
        c.Reset();
        WaitUnregistered(d, "foo");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void FinUnregistersOverIpv6()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start();
        var c = SendAlive(d, Hex.Parse(FooV6), 6, out var reply, host: "::1");
        Assert.That(Hex.Format(reply.AsSpan(0, Math.Min(2, reply.Length))), Is.EqualTo("76 00"));
        Assert.That(IsRegistered(d, "foo"), Is.True);
        c.Dispose();
        WaitUnregistered(d, "foo");
    }

    [Test]
    public void SocketResetBeforeAlive2ReplyIsWritten()
    {
        using var d = Start("-delay_write", "1", "-relaxed_command_check");
        using (var c = d.Connect())
        {
            // ALIVE2 "test" at 4711, hi 5, lo 5, as in epmd_SUITE.
            var sent = System.Diagnostics.Stopwatch.StartNew();
            c.Send("00 11 78 12 67 4d 00 00 05 00 05 00 04 74 65 73 74 00 00");
            // The RST must come after the daemon took the request in and before its delayed reply.
            WaitUntilDaemonHasRead(d, c);
            var half = TimeSpan.FromMilliseconds(500) - sent.Elapsed;
            if (half > TimeSpan.Zero) Thread.Sleep(half);
            c.Reset();
        }
        Thread.Sleep(1600);
        // NAMES itself waits one delay_write per write.
        Assert.That(Names(d, timeout: TimeSpan.FromSeconds(5)), Is.Empty, "no zombie registration");
    }

    [Test]
    public void AliveWithTrailingByteInOneSegmentRegistersNothing()
    {
        using var d = Start();
        AssertSilentClose(d, FooV6 + " 00");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void FailedAliveClosedByPeerLeavesOwnerRegistered()
    {
        using var d = Start();
        using var owner = Register(d, Hex.Parse(FooV6), out _);
        var dup = SendAlive(d, Hex.Parse(FooV6), 6, out var reply);
        AssertHex(reply, "76 01 00 00 00 63");
        dup.Dispose();
        Thread.Sleep(300);
        Assert.That(IsRegistered(d, "foo"), Is.True, "closing a refused duplicate must not unregister the owner");
        Assert.That(owner.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True);
    }

    [Test]
    public void ByteOnFailedAliveSocketClosesItAndLeavesOwnerRegistered()
    {
        using var d = Start();
        using var owner = Register(d, Hex.Parse(FooV6), out _);
        using var dup = SendAlive(d, Hex.Parse(FooV6), 6, out var reply);
        AssertHex(reply, "76 01 00 00 00 63");
        dup.Send("00");
        AssertClosedSilently(dup);
        Assert.That(IsRegistered(d, "foo"), Is.True);
        Assert.That(owner.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True);
    }

    [Test]
    public void NameIsFreeAgainAfterUnregistration()
    {
        using var d = Start();
        var first = Register(d, Hex.Parse(FooV6), out _);
        first.Dispose();
        WaitUnregistered(d, "foo");
        // Same name, other port: accepted now and looked up with the new port.
        using var second = Register(d, Hex.Parse("00 10 78 08 00 4d 00 00 06 00 05 00 03 66 6f 6f 00 00"), out _);
        AssertHex(PortPlease(d, Hex.Ascii("foo")), "77 00 08 00 4d 00 00 06 00 05 00 03 66 6f 6f 00 00");
    }

    [Test]
    public void RegisterOverflowBounded()
    {
        // A bounded register_overflow: register 100 names, drop all, twice (forward then reverse).
        using var d = Start();
        for (int round = 0; round < 2; round++)
        {
            var clients = new List<RawEpmdClient>();
            try
            {
                for (int i = 1; i <= 100; i++) clients.Add(Register(d, $"foo{i}", 1000 + i));
                var lines = Names(d).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.That(lines, Has.Length.EqualTo(100));
                Assert.That(lines[0], Is.EqualTo("name foo100 at port 1100"));
                Assert.That(lines[99], Is.EqualTo("name foo1 at port 1001"));
            }
            finally
            {
                if (round == 1) clients.Reverse();
                foreach (var c in clients) c.Dispose();
            }
            Eventually(() => Names(d).Length == 0, "all 100 names unregistered");
        }
    }
}

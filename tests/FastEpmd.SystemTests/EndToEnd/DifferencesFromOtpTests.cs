// Spec section 10, "Fix and document": OTP bugs FastEpmd deliberately does not copy.
// Each test is inconclusive against OTP's epmd (which keeps the bug) and must pass against FastEpmd.
using System.Diagnostics;
using System.Net.Sockets;
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Category("FastEpmdOnly")]
[Parallelizable(ParallelScope.All)]
public class DifferencesFromOtpTests
{
    private const string FooV6 = "00 10 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00";
    private static readonly TimeSpan Delayed = TimeSpan.FromSeconds(4);

    // (1) Spec 3.4: OTP unregisters by name when a reply write fails, even for a refused duplicate.
    [Test]
    public void DuplicateAliveFollowedByRstNeverUnregistersTheOwner()
    {
        AssumeFastEpmd();
        // -delay_write 1 holds every reply a second, so the RST always comes before the write.
        using var d = Start("-delay_write", "1");
        using var owner = d.Connect();
        owner.Send(FooV6);
        var reply = owner.ReadExactly(6, Delayed);
        Assert.That(Hex.Format(reply.AsSpan(0, Math.Min(2, reply.Length))), Is.EqualTo("76 00"), "the owner registers");
        using (var dup = d.Connect())
        {
            dup.Send(FooV6);
            WaitUntilDaemonHasRead(d, dup); // the duplicate is taken in, its error reply is pending
            Thread.Sleep(100);
            dup.Reset();
        }
        Thread.Sleep(1200); // the duplicate's delayed error reply fails now
        AssertHex(PortPlease(d, Hex.Ascii("foo"), Delayed), "77 00 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00",
            "the owner must still be registered");
        using var third = d.Connect();
        third.Send(FooV6);
        AssertHex(third.ReadExactly(6, Delayed), "76 01 00 00 00 63", "the name is still taken");
        Assert.That(owner.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True);
    }

    // (2) Slow-loris: the packet timeout stays OTP 25's idle timer; a whole-request deadline,
    // counted from accept, ends a client that never goes idle. (Slow clients are how an attacker
    // holds the slots for CVE-2026-42792, the exit on EMFILE; they are not the CVE itself.)
    [Test]
    public void SlowLorisIsClosedByTheRequestDeadlineWhileStillSending()
    {
        AssumeFastEpmd();
        using var d = Start("-packet_timeout", "2", "-request_deadline_ms", "3000");
        var sw = Stopwatch.StartNew();
        using var c = d.Connect();
        c.Send("00 20"); // claims 32 bytes, then one byte a second
        int dribbled = 0;
        bool closed = false;
        while (sw.Elapsed < TimeSpan.FromSeconds(10) && !closed)
        {
            if (c.Socket.Poll(1_000_000, SelectMode.SelectRead))
            {
                var r = c.ReadToEnd(TimeSpan.FromMilliseconds(200));
                Assert.That(r.Data, Is.Empty, $"no reply expected, got [{r.HexData}]");
                closed = r.Closed;
                continue;
            }
            try
            {
                c.Send("61");
                dribbled++;
            }
            catch (SocketException)
            {
                closed = true;
            }
        }
        Assert.That(closed, Is.True, $"a client dribbling 1 byte/s must be closed; still open after {sw.Elapsed.TotalSeconds:0.0} s");
        // About 3 s after accept; the margin is for loaded hosts. An idle timer would never fire here.
        Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(7), "closed about the request deadline after accept");
        Assert.That(dribbled, Is.GreaterThanOrEqualTo(1), "the client was still sending when it was closed");
    }

    // (3) Spec 1.1: OTP never times out a connection whose ALIVE2 got an error reply.
    [Test]
    public void FailedAliveConnectionIsClosedAfterThePacketTimeout()
    {
        AssumeFastEpmd();
        using var d = Start("-packet_timeout", "1");
        using var owner = Register(d, Hex.Parse(FooV6), out _);
        var sinceConnect = Stopwatch.StartNew();
        using var dup = SendAlive(d, Hex.Parse(FooV6), 6, out var reply);
        AssertHex(reply, "76 01 00 00 00 63");
        var seconds = SecondsUntilClosed(dup, TimeSpan.FromSeconds(6));
        Assert.That(seconds, Is.Not.Null, "a failed-ALIVE connection must not be kept forever");
        Assert.That(sinceConnect.Elapsed.TotalSeconds, Is.GreaterThan(0.7), "kept for the 1 s packet timeout first");
        // The successful registration never times out.
        Assert.That(owner.StaysOpenFor(TimeSpan.FromMilliseconds(200)), Is.True);
        Assert.That(IsRegistered(d, "foo"), Is.True);
    }

    // (4) Spec 5.2: OTP exits 0 silently on -address 0.0.0.0 (EADDRINUSE with its implicit 127.0.0.1 bind).
    [Test]
    public void AddressAnyRunsAndListens()
    {
        AssumeFastEpmd();
        using var d = Start("-address", "0.0.0.0");
        using var node = Register(d, "foo", 1042);
        Assert.That(Names(d), Is.EqualTo("name foo at port 1042\n"));
        Assert.That(d.WaitExit(TimeSpan.FromMilliseconds(500)), Is.Null, "the daemon keeps running");
    }

    // (5) Spec 2.2: OTP drops the newest connection when full; FastEpmd evicts the oldest idle query
    // connection and never a registration.
    [Test]
    public void FullTableClosesTheOldestIdleConnectionNotARegistration()
    {
        AssumeFastEpmd();
        using var d = Start("-max_connections", "8");
        var regs = new List<RawEpmdClient>();
        var idles = new List<RawEpmdClient>();
        try
        {
            for (int i = 1; i <= 3; i++) regs.Add(Register(d, $"node{i}", 1000 + i));
            for (int i = 0; i < 5; i++)
            {
                idles.Add(d.Connect().Send("00"));   // a begun request: handed over despite TCP_DEFER_ACCEPT
                Thread.Sleep(50); // accepted in this order
            }
            // The table holds 8: a ninth connection's query is still answered.
            Assert.That(Names(d), Is.EqualTo("name node3 at port 1003\nname node2 at port 1002\nname node1 at port 1001\n"));
            AssertClosedSilently(idles[0], TimeSpan.FromSeconds(3));
            Assert.That(idles[4].StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True, "only the oldest idle connection goes");

            // Many more idle connections: registrations are never the ones closed.
            for (int i = 0; i < 12; i++)
            {
                idles.Add(d.Connect().Send("00"));
                Thread.Sleep(20);
            }
            Thread.Sleep(200);
            foreach (var r in regs)
                Assert.That(r.StaysOpenFor(TimeSpan.FromMilliseconds(50)), Is.True, "a registration's connection was closed");
            Assert.That(Names(d), Is.EqualTo("name node3 at port 1003\nname node2 at port 1002\nname node1 at port 1001\n"));
        }
        finally
        {
            foreach (var c in idles) c.Dispose();
            foreach (var c in regs) c.Dispose();
        }
    }

    // (6) Spec 2.2: OTP's select() caps it at 1019 connections, registrations included.
    [Test]
    public void TwoThousandSimultaneousRegistrations()
    {
        AssumeFastEpmd();
        using var d = Start("-max_connections", "3000");
        var regs = new List<RawEpmdClient>(2000);
        try
        {
            for (int i = 1; i <= 2000; i++) regs.Add(Register(d, $"n{i}", 10000 + i));
            var lines = Names(d, timeout: TimeSpan.FromSeconds(10)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.Length.EqualTo(2000));
            Assert.That(lines[0], Is.EqualTo("name n2000 at port 12000"));
            Assert.That(lines[1999], Is.EqualTo("name n1 at port 10001"));
            AssertHex(PortPlease(d, Hex.Ascii("n1")), "77 00 27 11 4d 00 00 06 00 05 00 02 6e 31 00 00");
        }
        finally
        {
            foreach (var c in regs) c.Dispose();
        }
        Eventually(() => Names(d).Length == 0, "all 2000 names unregistered", TimeSpan.FromSeconds(10));
    }
}

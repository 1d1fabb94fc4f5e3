// TCP_DEFER_ACCEPT on the listeners, on by default (-defer_accept 1; 0 turns it off). Same bytes
// for every request; a silent connection reaches the daemon (and its packet timeout) only after
// the defer period.
using System.Diagnostics;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class DeferAcceptTests
{
    [Test]
    public void QueriesAndRegistrationsAreServedAsWithout()
    {
        using var d = DaemonProcess.StartFastEpmd("-defer_accept", "2");
        using var node = d.Connect();
        node.Send(Requests.Alive("deferred", port: 4711, hi: 5, lo: 5));
        Assert.That(node.ReadExactly(2), Is.EqualTo(Hex.Parse("79 00")));
        node.ReadExactly(2);
        Assert.That(d.Request(Requests.PortPlease("deferred")).HexData,
            Is.EqualTo("77 00 12 67 4d 00 00 05 00 05 00 08 64 65 66 65 72 72 65 64 00 00"));
        Assert.That(d.Request(Requests.Names).Data.Skip(4).ToArray(), Is.EqualTo(Hex.Ascii("name deferred at port 4711\n")));
    }

    [Test]
    public void SilentConnectionIsHandedOverOnlyAfterTheDeferPeriod()
    {
        // -packet_timeout 1: once the daemon has the connection it closes it 2 s later (N + 1 s).
        // With -defer_accept 0 that is ~2 s after connect; by default (1 s), at least ~3 s.
        double ClosedAfterMs(params string[] extra)
        {
            using var d = DaemonProcess.StartFastEpmd(new[] { "-packet_timeout", "1" }.Concat(extra).ToArray());
            using var c = d.Connect();
            var sw = Stopwatch.StartNew();
            var result = c.ReadToEnd(TimeSpan.FromSeconds(10));
            Assert.That(result.Closed, Is.True);
            return sw.Elapsed.TotalMilliseconds;
        }
        double plain = ClosedAfterMs("-defer_accept", "0");
        double deferred = ClosedAfterMs();
        TestContext.Out.WriteLine($"silent connection closed after {plain:F0} ms with -defer_accept 0, {deferred:F0} ms by default");
        Assert.That(plain, Is.LessThan(2_500));
        Assert.That(deferred, Is.GreaterThan(2_500));
    }
}

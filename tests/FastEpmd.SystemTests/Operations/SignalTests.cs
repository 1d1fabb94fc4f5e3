// Signals: SIGTERM/SIGINT stop cleanly (exit 0, fast, no reply cut short); the rest as OTP's epmd.
using System.Diagnostics;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class SignalTests
{
    [TestCase(Native.SIGTERM)]
    [TestCase(Native.SIGINT)]
    public void StopSignalExitsZeroWithin100MsAndNodesSeeEof(int signal)
    {
        var times = new List<double>();
        for (int trial = 0; trial < 5; trial++)
        {
            using var d = DaemonProcess.StartFastEpmd();
            using var node = d.Connect();
            node.Send(Requests.Alive("sig" + trial));
            Assert.That(node.ReadExactly(6).Length, Is.EqualTo(6));
            var sw = Stopwatch.StartNew();
            d.Signal(signal);
            Assert.That(d.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0));
            times.Add(sw.Elapsed.TotalMilliseconds);
            // The registration's socket is closed by the daemon: the node sees EOF.
            Assert.That(node.ReadToEnd(TimeSpan.FromSeconds(2)).Closed, Is.True);
        }
        times.Sort();
        TestContext.Out.WriteLine($"exit after signal, ms: {string.Join(", ", times.Select(t => t.ToString("F1")))}");
        Assert.That(times[2], Is.LessThan(100), "median time from signal to exit");
    }

    private const int NodeCount = 8000;

    [Test]
    [NonParallelizable] // the drain budget is 90 ms: keep other tests' load off the reader
    public void ReplyInFlightAtSigtermIsCompleted()
    {
        using var d = DaemonProcess.StartFastEpmd("-max_connections", "9000");
        var nodes = new List<RawEpmdClient>();
        try
        {
            // 8,000 nodes with 1,005-byte names: a NAMES reply of ~8.2 MB, more than the kernel's
            // socket buffers hold (tcp_wmem max 4 MB), so part of it is still in the daemon at SIGTERM.
            string longTail = string.Concat(Enumerable.Repeat("\U0001F600", 250));
            for (int i = 0; i < NodeCount; i++)
            {
                var n = d.Connect();
                n.Send(Requests.Alive($"n{i:D4}{longTail}", port: 10000 + i));
                Assert.That(n.ReadExactly(6).Length, Is.EqualTo(6));
                nodes.Add(n);
            }
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.Connect(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, d.Port));
            socket.Send(Requests.Names);
            Thread.Sleep(200); // the reader waits: the daemon fills the socket buffers and parks on EPOLLOUT
            d.Signal(Native.SIGTERM);
            var data = new List<byte>();
            var buffer = new byte[65536];
            var deadline = DateTime.UtcNow.AddSeconds(10);
            bool closed = false;
            while (!closed && DateTime.UtcNow < deadline)
            {
                if (!socket.Poll(100_000, System.Net.Sockets.SelectMode.SelectRead)) continue;
                int n = socket.Receive(buffer);
                if (n == 0) closed = true;
                else data.AddRange(buffer.AsSpan(0, n).ToArray());
            }
            var reply = new ReadResult(data.ToArray(), closed, false);
            Assert.That(reply.Closed, Is.True);
            var lines = System.Text.Encoding.UTF8.GetString(reply.Data, 4, reply.Data.Length - 4).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.Length.EqualTo(NodeCount), "every line of the NAMES reply arrived");
            Assert.That(d.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0));
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Test]
    public void SigpipeIsIgnored()
    {
        using var d = DaemonProcess.StartFastEpmd();
        d.Signal(Native.SIGPIPE);
        Thread.Sleep(200);
        Assert.That(d.HasExited, Is.False);
        Assert.That(d.Request(Requests.Names).Data, Has.Length.EqualTo(4));
    }

    /// <summary>Signals FastEpmd does not handle end it exactly as they end OTP's epmd.</summary>
    [TestCase(Native.SIGHUP)]
    [TestCase(Native.SIGQUIT)]
    [TestCase(Native.SIGUSR1)]
    public void OtherSignalsActAsInOtp(int signal)
    {
        int? Run(Func<DaemonProcess> start)
        {
            using var d = start();
            d.Signal(signal);
            return d.WaitExit(TimeSpan.FromSeconds(5));
        }
        var otp = Run(() => DaemonProcess.StartOtp());
        var ours = Run(() => DaemonProcess.StartFastEpmd());
        Assert.That(otp, Is.Not.Null);
        Assert.That(ours, Is.EqualTo(otp));
    }
}

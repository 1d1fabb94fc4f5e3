// The control socket never holds up the loop, on the built binary: while one kind of abuse runs
// against it for a few seconds (a client that connects and stays silent, one that sends garbage,
// one that stops inside the record header, one that says a valid Hello and nothing more, a
// thousand connects), a PORT_PLEASE2 loop must be answered every time, and its longest gap is
// printed. On main (fb5f249) a Hello followed by silence froze every lookup for 5.08 s.
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using FastEpmd.SystemTests.EndToEnd;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.Self)]
public class UpgradeControlAbuseTests
{
    /// <summary>The longest lookup gap allowed: far under the 1 s Hello deadline, let alone 5 s, on a busy 2-core machine.</summary>
    private static readonly TimeSpan s_longestGap = TimeSpan.FromMilliseconds(700);

    private static readonly TimeSpan s_abuse = TimeSpan.FromSeconds(3);

    private static Socket Control(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    private static byte[] Hello()
    {
        var hello = new byte[14];
        "FEUPH"u8.CopyTo(hello);
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(5), 2);      // protocol
        BinaryPrimitives.WriteUInt32BigEndian(hello.AsSpan(7), 1000);   // descriptor room
        hello[11] = 1;                                                  // one format: 1
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(12), 1);
        return hello;
    }

    /// <summary>One round of the abuse; the sockets it leaves open are closed when the abuse ends.</summary>
    private static void Abuse(string kind, string path, List<Socket> held)
    {
        switch (kind)
        {
            case "silent":
                held.Add(Control(path));
                Thread.Sleep(1200);   // past the Hello deadline, then again
                break;
            case "garbage":
                var g = Control(path);
                g.Send("GET / HTTP/1.0\r\n\r\n"u8);
                held.Add(g);
                Thread.Sleep(10);
                break;
            case "mid-header":
                var m = Control(path);
                m.Send("FEU"u8);
                held.Add(m);
                Thread.Sleep(300);
                break;
            case "hello-then-silence":
                var h = Control(path);
                h.Send(Hello());
                held.Add(h);
                Thread.Sleep(200);
                break;
            case "thousand-connects":
                for (int i = 0; i < 1000; i++)
                {
                    try
                    {
                        held.Add(Control(path));
                    }
                    catch (SocketException)
                    {
                        // a full backlog refuses (EAGAIN): that is the kernel, not the loop
                    }
                    if (held.Count > 200) CloseAll(held);
                }
                Thread.Sleep(500);
                break;
        }
    }

    private static void CloseAll(List<Socket> held)
    {
        foreach (var s in held) s.Dispose();
        held.Clear();
    }

    [TestCase("silent")]
    [TestCase("garbage")]
    [TestCase("mid-header")]
    [TestCase("hello-then-silence")]
    [TestCase("thousand-connects")]
    public void Lookups_are_answered_without_a_gap_while_the_control_socket_is_abused(string kind)
    {
        var dir = Directory.CreateTempSubdirectory("fastepmd-ctrl-").FullName;
        try
        {
            using var daemon = DaemonProcess.Start(Binaries.FastEpmd, Array.Empty<string>(), new Dictionary<string, string?> { ["RUNTIME_DIRECTORY"] = dir });
            string path = Path.Combine(dir, $"control-{daemon.Port}.sock");
            using var node = E2e.Register(daemon, Requests.Alive("abused", 9000), out _);

            using var stop = new CancellationTokenSource();
            var abuser = Task.Run(() =>
            {
                var held = new List<Socket>();
                var rounds = Stopwatch.StartNew();
                while (!stop.IsCancellationRequested && rounds.Elapsed < TimeSpan.FromSeconds(20))
                {
                    try
                    {
                        Abuse(kind, path, held);
                    }
                    catch (SocketException)
                    {
                        // the daemon closed it first (a second asker, garbage): the abuse goes on
                    }
                }
                CloseAll(held);
            });

            // The loop's answer time is from the request's send to the reply's close: the kernel
            // completes the handshake whatever the loop does, and a SYN that the busy machine's
            // loopback dropped costs the connect a 1 s retransmit that is no gap of the daemon's.
            var request = Requests.PortPlease("abused");
            int lookups = 0;
            var worst = TimeSpan.Zero;
            var worstConnect = TimeSpan.Zero;
            var window = Stopwatch.StartNew();
            while (window.Elapsed < s_abuse)
            {
                var connecting = Stopwatch.StartNew();
                using var client = daemon.Connect();
                worstConnect = connecting.Elapsed > worstConnect ? connecting.Elapsed : worstConnect;
                var answering = Stopwatch.StartNew();
                client.Send(request);
                var reply = client.ReadToEnd(TimeSpan.FromSeconds(10));
                var answered = answering.Elapsed;
                Assert.That(reply.Closed && reply.Data.Length >= 4 && reply.Data[0] == 0x77 && reply.Data[1] == 0, Is.True,
                    $"lookup {lookups} answered and closed: [{reply.HexData}]");
                worst = answered > worst ? answered : worst;
                lookups++;
            }
            stop.Cancel();
            Assert.That(abuser.Wait(TimeSpan.FromSeconds(30)), Is.True, "the abuse ends");
            TestContext.Out.WriteLine($"{kind}: {lookups} lookups in {s_abuse.TotalSeconds} s, longest answer {worst.TotalMilliseconds:F0} ms (longest connect {worstConnect.TotalMilliseconds:F0} ms)");
            Assert.That(worst, Is.LessThan(s_longestGap), $"{kind}: the longest answer took {worst.TotalMilliseconds:F0} ms");
            Assert.That(daemon.HasExited, Is.False);
            Assert.That(Untouched(node), Is.True, "the registration's connection is untouched");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool Untouched(RawEpmdClient node) => !node.Socket.Poll(0, SelectMode.SelectRead);
}

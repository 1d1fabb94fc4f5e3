// Real Erlang nodes against the daemon under test (FASTEPMD_BIN): two `erl -sname` nodes register,
// find each other, ping, list each other through erl_epmd, and vanish from NAMES when they stop.
// The tests run in order over one daemon and its nodes; each asserts literal bytes or node output.
using System.Diagnostics;

namespace FastEpmd.SystemTests.Interop;

[TestFixture]
[Category("Interop")]
[Parallelizable(ParallelScope.Self)]
public class ErlNodeInteropTests
{
    private static readonly TimeSpan s_nodeStart = TimeSpan.FromSeconds(60);   // 15 s missed once with the booted machines and epmd_SUITE beside it
    private static readonly TimeSpan s_reply = TimeSpan.FromSeconds(10);

    private DaemonProcess? _daemon;
    private ErlNode? _a, _b, _b2;
    private int _portA, _portB;

    private DaemonProcess Daemon => _daemon ?? throw new InvalidOperationException("no daemon");
    private ErlNode A => _a ?? throw new InvalidOperationException("node a not started");
    private ErlNode B => _b ?? throw new InvalidOperationException("node b not started");

    [OneTimeSetUp]
    public void StartDaemonAndNodes()
    {
        _daemon = DaemonProcess.StartFastEpmd();
        _portB = Ports.Free();
        _b = StartNode("b", _portB);
        // a registers after b, so epmd lists a first (newest first).
        _portA = Ports.Free();
        _a = StartNode("a", _portA);
    }

    [OneTimeTearDown]
    public void StopEverything()
    {
        _a?.Dispose();
        _b?.Dispose();
        _b2?.Dispose();
        _daemon?.Dispose();
    }

    [Test, Order(1)]
    public void Both_nodes_register_and_raw_NAMES_lists_them_with_their_ports()
    {
        var reply = Daemon.Request(Requests.Names);
        Assert.That(reply.Closed, Is.True, "NAMES ends with a close");
        Assert.That(reply.HexData, Is.EqualTo(Hex.Format(NamesReply(("a", _portA), ("b", _portB)))), Context());
    }

    [Test, Order(2)]
    public void Port_please_returns_the_real_node_registration()
    {
        // An OTP 25 node registers as a normal node ('M'), TCP/IPv4, versions 6..5, no extra.
        var reply = Daemon.Request(Requests.PortPlease("b"));
        Assert.That(reply.Closed, Is.True);
        Assert.That(reply.HexData,
            Is.EqualTo(Hex.Format(Hex.Cat(Hex.Parse("77 00"), Hex.U16(_portB), Hex.Parse("4d 00 00 06 00 05 00 01 62 00 00")))),
            Context());
    }

    [Test, Order(3)]
    public void Ping_from_a_to_b_returns_pong()
    {
        Assert.That(Ask(A, $"ping {B.FullName}", "PING "), Is.EqualTo($"PING {B.FullName} pong"), Context());
    }

    [Test, Order(4)]
    public void Erl_epmd_names_inside_a_node_lists_both()
    {
        int from = A.LineCount;
        A.Command("names");
        var lines = A.ReadUntil("NAMES END", s_reply, from);
        Assert.That(lines, Is.Not.Null, Context());
        // erl_epmd:names/0 returns the NAMES lines in reverse: oldest registration first.
        Assert.That(lines, Is.EqualTo(new[] { $"NAME b {_portB}", $"NAME a {_portA}", "NAMES END" }), Context());
    }

    [Test, Order(5)]
    public void Node_stopped_with_init_stop_disappears_from_NAMES()
    {
        B.Command("stop");
        Assert.That(B.WaitExit(s_reply), Is.EqualTo(0), Context());
        var expected = Hex.Format(NamesReply(("a", _portA)));
        Assert.That(AwaitNames(expected, TimeSpan.FromSeconds(5)), Is.EqualTo(expected), Context());
        Assert.That(Daemon.Request(Requests.PortPlease("b")).HexData, Is.EqualTo("77 01"));
        Assert.That(Ask(A, $"ping {B.FullName}", "PING "), Is.EqualTo($"PING {B.FullName} pang"), Context());
    }

    [Test, Order(6)]
    public void Restarted_node_registers_again_and_answers_ping()
    {
        int portB2 = Ports.Free();
        _b2 = StartNode("b", portB2);
        var reply = Daemon.Request(Requests.Names);
        Assert.That(reply.HexData, Is.EqualTo(Hex.Format(NamesReply(("b", portB2), ("a", _portA)))), Context());
        Assert.That(Ask(A, $"ping {_b2.FullName}", "PING "), Is.EqualTo($"PING {_b2.FullName} pong"), Context());
    }

    [Test, Order(7)]
    public void Node_halted_disappears_from_NAMES_and_the_registry_empties()
    {
        var b2 = _b2 ?? throw new InvalidOperationException("restarted b not started");
        A.Command("halt");
        Assert.That(A.WaitExit(s_reply), Is.EqualTo(0), Context());
        int portB2 = b2.DistPort;
        var onlyB = Hex.Format(NamesReply(("b", portB2)));
        Assert.That(AwaitNames(onlyB, TimeSpan.FromSeconds(5)), Is.EqualTo(onlyB), Context());

        b2.Command("stop");
        Assert.That(b2.WaitExit(s_reply), Is.EqualTo(0), Context());
        var empty = Hex.Format(NamesReply());
        Assert.That(AwaitNames(empty, TimeSpan.FromSeconds(5)), Is.EqualTo(empty), Context());
    }

    private ErlNode StartNode(string name, int distPort) => ErlNode.StartReady(name, Daemon.Port, distPort, s_nodeStart);

    private static string? Ask(ErlNode node, string command, string replyPrefix)
    {
        int from = node.LineCount;
        node.Command(command);
        return node.WaitLine(l => l.StartsWith(replyPrefix, StringComparison.Ordinal), s_reply, from)?.Line;
    }

    /// <summary>NAMES reply bytes: the daemon's port as 4 bytes, then one line per node.</summary>
    private byte[] NamesReply(params (string Name, int Port)[] nodes) =>
        Hex.Cat(Hex.Parse("00 00"), Hex.U16(Daemon.Port),
            Hex.Ascii(string.Concat(nodes.Select(n => $"name {n.Name} at port {n.Port}\n"))));

    /// <summary>Polls NAMES until it equals expected (hex) or the timeout passes; returns the last reply.</summary>
    private string AwaitNames(string expected, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var reply = Daemon.Request(Requests.Names, TimeSpan.FromSeconds(2));
            if (reply.Closed && reply.HexData == expected) return reply.HexData;
            if (sw.Elapsed > timeout) return reply.HexData;
            Thread.Sleep(100);
        }
    }

    private string Context() =>
        $"daemon {Daemon.Binary} port {Daemon.Port}\n" +
        string.Join('\n', new[] { _a, _b, _b2 }.Where(n => n != null).Select(n => n!.Describe())) +
        $"\ndaemon stderr: {Daemon.Stderr}";
}

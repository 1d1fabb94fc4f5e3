// Each Debian release's own Erlang nodes (Debian 12: OTP 25 on this host; Debian 13: OTP 27 from
// its root) and its own `epmd` client, once through the release's epmd and once through FastEpmd:
// two nodes register, ping each other both ways, list each other with net_adm:names(), are listed
// by `epmd -names`, stop one after the other, and `epmd -kill` (refused while a node lives) stops
// the daemon. Both transcripts, with ports and the host name made symbolic, must be equal.
using System.Diagnostics;
using System.Globalization;
using FastEpmd.SystemTests.Reference;

namespace FastEpmd.SystemTests.Interop;

[TestFixture("Debian 12")]
[TestFixture("Debian 13")]
[Category("Interop")]
[Parallelizable(ParallelScope.Self)]
public class ReleaseNodesTests
{
    private static readonly TimeSpan s_nodeStart = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_reply = TimeSpan.FromSeconds(10);

    private readonly DebianRelease _release;

    public ReleaseNodesTests(string release) => _release = DebianRelease.Named(release);

    [Test]
    public void Nodes_and_the_epmd_client_behave_through_FastEpmd_as_through_the_releases_epmd()
    {
        if (_release.Missing.Length > 0) Assert.Fail(_release.Missing);
        var reference = Task.Factory.StartNew(() => Transcript(_release.Epmd), TaskCreationOptions.LongRunning);
        var fast = Task.Factory.StartNew(() => Transcript(Binaries.FastEpmd), TaskCreationOptions.LongRunning);
        Assert.That(Task.WaitAll(new Task[] { reference, fast }, TimeSpan.FromSeconds(90)), Is.True, "a transcript did not finish in 90 s");
        TestContext.Out.WriteLine($"--- {_release}'s epmd\n{string.Join('\n', reference.Result)}\n--- FastEpmd\n{string.Join('\n', fast.Result)}");

        // The reference did what the release's nodes and client do (the harness is sound) ...
        var r = reference.Result;
        Assert.That(r, Does.Contain("a: PING b@<host> pong").And.Contain("b: PING a@<host> pong"));
        Assert.That(r, Does.Contain("a: net_adm:names() NAME b <b> | NAME a <a> | NAMES END"));
        Assert.That(r, Does.Contain("epmd -names: exit 0 | epmd: up and running on port <epmd> with data: | name a at port <a> | name b at port <b>"));
        Assert.That(r, Does.Contain("epmd -kill with a living: exit 1 | Killing not allowed - living nodes in database."));
        Assert.That(r, Does.Contain("epmd -kill: exit 0 | Killed").And.Contain("daemon: exited"));
        // ... and FastEpmd's transcript is the same, line for line.
        Assert.That(fast.Result, Is.EqualTo(r));
    }

    private List<string> Transcript(string daemonBinary)
    {
        var lines = new List<string>();
        using var daemon = DaemonProcess.Start(daemonBinary, Array.Empty<string>(), null);
        int portA = Ports.Free(), portB = Ports.Free();
        string Sym(string text) => text
            .Replace(ErlNode.ShortHost, "<host>", StringComparison.Ordinal)
            .Replace(portA.ToString(CultureInfo.InvariantCulture), "<a>", StringComparison.Ordinal)
            .Replace(portB.ToString(CultureInfo.InvariantCulture), "<b>", StringComparison.Ordinal)
            .Replace(daemon.Port.ToString(CultureInfo.InvariantCulture), "<epmd>", StringComparison.Ordinal);
        using var b = StartNode("b", daemon.Port, portB);
        using var a = StartNode("a", daemon.Port, portA);
        lines.Add("a: " + Sym(Ask(a, $"ping {b.FullName}", "PING ")));
        lines.Add("b: " + Sym(Ask(b, $"ping {a.FullName}", "PING ")));
        int from = a.LineCount;
        a.Command("netnames");
        lines.Add("a: net_adm:names() " + Sym(string.Join(" | ", a.ReadUntil("NAMES END", s_reply, from) ?? new List<string> { "(no reply)" })));
        lines.Add("epmd -names: " + Client(daemon.Port, "-names", Sym));

        b.Command("stop");
        lines.Add($"b stopped: exit {b.WaitExit(s_reply)}");
        lines.Add(AwaitNames(daemon.Port, "a", Sym));
        lines.Add("epmd -kill with a living: " + Client(daemon.Port, "-kill", Sym));
        a.Command("halt");
        lines.Add($"a halted: exit {a.WaitExit(s_reply)}");
        lines.Add(AwaitNames(daemon.Port, "", Sym));
        lines.Add("epmd -kill: " + Client(daemon.Port, "-kill", Sym));
        lines.Add("daemon: " + (daemon.WaitExit(TimeSpan.FromSeconds(5)) is null ? "running" : "exited"));
        return lines;
    }

    private ErlNode StartNode(string name, int epmdPort, int distPort) => ErlNode.StartReady(name, epmdPort, distPort, s_nodeStart, _release.Erl);

    private static string Ask(ErlNode node, string command, string replyPrefix)
    {
        int from = node.LineCount;
        node.Command(command);
        return node.WaitLine(l => l.StartsWith(replyPrefix, StringComparison.Ordinal), s_reply, from)?.Line ?? $"(no reply to {command})";
    }

    /// <summary>The release's own epmd client (OTP's, in its root for Debian 13) against the daemon on port.</summary>
    private string Client(int port, string verb, Func<string, string> sym)
    {
        var r = CliRun.Run(_release.Epmd, new[] { "-port", port.ToString(CultureInfo.InvariantCulture), verb });
        return sym($"exit {r.ExitCode} | " + string.Join(" | ", (r.StdoutText + r.StderrText).Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>Polls the client's -names until exactly the node named (or none) is listed.</summary>
    private string AwaitNames(int port, string only, Func<string, string> sym)
    {
        var clock = Stopwatch.StartNew();
        string last;
        do
        {
            last = Client(port, "-names", sym);
            bool listed = only.Length == 0 ? !last.Contains("| name ", StringComparison.Ordinal)
                : last.EndsWith($"| name {only} at port <{only}>", StringComparison.Ordinal);
            if (listed) break;
            Thread.Sleep(100);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(5));
        return "epmd -names after the stop: " + last;
    }
}

// epmd -names/-started/-dump/-kill/-stop against a running daemon: OTP's client and fastepmd's
// client must print the same bytes and exit with the same code, against OTP's daemon and
// against fastepmd's. Commands that change the daemon's state run each client against a fresh
// daemon set up the same way.
namespace FastEpmd.SystemTests.Cli;

[TestFixture("otp")]
[TestFixture("fastepmd")]
[Category("Cli")]
public class ClientCommandTests(string daemonKind)
{
    private const int NodePort = 45678;
    private readonly List<IDisposable> _cleanup = new();

    [TearDown]
    public void TearDown()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--) _cleanup[i].Dispose();
        _cleanup.Clear();
    }

    private string DaemonBinary => daemonKind == "otp" ? Binaries.Otp : Binaries.FastEpmd;

    private DaemonProcess StartDaemon(params string[] args) => StartDaemon(null, args);

    private DaemonProcess StartDaemon(IDictionary<string, string?>? env, params string[] args)
    {
        var daemon = DaemonProcess.Start(DaemonBinary, args, env);
        _cleanup.Add(daemon);
        return daemon;
    }

    private RegisteredNode Register(DaemonProcess daemon, string name, int port = NodePort)
    {
        var node = RegisteredNode.Register(daemon, name, port);
        _cleanup.Add(node);
        return node;
    }

    private static string[] Client(DaemonProcess daemon, params string[] command) =>
        new[] { "-port", daemon.Port.ToString() }.Concat(command).ToArray();

    /// <summary>Both clients against one daemon, for commands that leave it as it was.</summary>
    private static CliOutcome BothAgainst(DaemonProcess daemon, params string[] command)
    {
        var args = Client(daemon, command);
        var otp = CliRun.Run(Binaries.Otp, args);
        var fast = CliRun.Run(Binaries.FastEpmd, args);
        CliAssert.Same(otp, fast, "epmd " + string.Join(' ', args));
        return fast;
    }

    /// <summary>Each client against its own fresh daemon, for commands that change it.</summary>
    private CliOutcome BothAgainstFresh(Func<DaemonProcess> setUp, params string[] command)
    {
        var outcomes = new List<CliOutcome>();
        foreach (var client in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            var daemon = setUp();
            outcomes.Add(CliRun.Run(client, Client(daemon, command)));
        }
        CliAssert.Same(outcomes[0], outcomes[1], "epmd " + string.Join(' ', command));
        return outcomes[1];
    }

    private static string Header(DaemonProcess daemon) => $"epmd: up and running on port {daemon.Port} with data:\n";

    [Test]
    public void Names_Empty()
    {
        var daemon = StartDaemon();
        var fast = BothAgainst(daemon, "-names");
        CliAssert.Exactly(fast, Header(daemon), "", 0, "fastepmd");
    }

    [Test]
    public void Names_OneNode()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-names");
        CliAssert.Exactly(fast, Header(daemon) + "name fakenode at port 45678\n", "", 0, "fastepmd");
    }

    [Test]
    public void Names_NewestFirst_RawNameBytes()
    {
        var daemon = StartDaemon();
        Register(daemon, "first", 1001);
        Register(daemon, "n\u00f8de-\U0001F608", 1002);
        Register(daemon, "x at port 1\nname y", 1003);
        var fast = BothAgainst(daemon, "-names");
        CliAssert.Exactly(fast, Header(daemon)
            + "name x at port 1\nname y at port 1003\n"
            + "name n\u00f8de-\U0001F608 at port 1002\n"
            + "name first at port 1001\n", "", 0, "fastepmd");
    }

    [Test]
    public void Names_ManyNodes_LongerThanOneRead()
    {
        var daemon = StartDaemon();
        for (int i = 0; i < 300; i++) Register(daemon, "node" + i + new string('x', 40), 20000 + i);
        var fast = BothAgainst(daemon, "-names");
        Assert.That(fast.StdoutText.Split('\n'), Has.Length.EqualTo(302));
        Assert.That(fast.Stdout, Has.Length.GreaterThan(8192));
    }

    [Test]
    public void Names_WithDebugAndDaemonFlags_IsStillTheClient()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-d", "-d", "-daemon", "-names");
        CliAssert.Exactly(fast, Header(daemon) + "name fakenode at port 45678\n", "", 0, "fastepmd");
    }

    [Test]
    public void Started_DaemonUp_SilentExit0()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-started");
        CliAssert.Exactly(fast, "", "", 0, "fastepmd");
    }

    [Test]
    public void Dump_Empty()
    {
        var daemon = StartDaemon();
        var fast = BothAgainst(daemon, "-dump");
        CliAssert.Exactly(fast, Header(daemon), "", 0, "fastepmd");
    }

    [Test]
    public void Dump_LiveNode_LineEndsInNul()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-dump");
        CliAssert.Matches(fast, "^" + Rx(Header(daemon)) + @"active name     <fakenode> at port 45678, fd = \d+\n\x00$", 0, "fastepmd");
    }

    [Test]
    public void Dump_AfterNodeLeft_OldUnusedWithTrailingSpace()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode").CloseAndWaitGone(daemon);
        var fast = BothAgainst(daemon, "-dump");
        CliAssert.Matches(fast, "^" + Rx(Header(daemon)) + @"old/unused name <fakenode>, port = 45678, fd = \d+ \n\x00$", 0, "fastepmd");
    }

    [Test]
    public void Kill_NoNodes_Killed_DaemonExits0()
    {
        var daemons = new List<DaemonProcess>();
        var fast = BothAgainstFresh(() =>
        {
            var d = StartDaemon();
            daemons.Add(d);
            return d;
        }, "-kill");
        CliAssert.Exactly(fast, "Killed\n", "", 0, "fastepmd");
        foreach (var d in daemons) Assert.That(d.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0), "daemon exit code after KILL");
    }

    [Test]
    public void Kill_LiveNode_NotRelaxed_Refused_Exit1()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-kill");
        CliAssert.Exactly(fast, "Killing not allowed - living nodes in database.\n", "", 1, "fastepmd");
        Assert.That(daemon.HasExited, Is.False);
    }

    [Test]
    public void Kill_LiveNode_Relaxed_Killed()
    {
        var fast = BothAgainstFresh(() =>
        {
            var d = StartDaemon("-relaxed_command_check");
            Register(d, "fakenode");
            return d;
        }, "-kill");
        CliAssert.Exactly(fast, "Killed\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_NotRelaxed_ServerClosesSilently_EmptyAngleBrackets()
    {
        var daemon = StartDaemon();
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-stop", "fakenode");
        CliAssert.Exactly(fast, "epmd: local epmd responded with <>\n", "", 1, "fastepmd");
    }

    [Test]
    public void Stop_Relaxed_UnknownName_NoExist_Exit0()
    {
        var daemon = StartDaemon("-relaxed_command_check");
        Register(daemon, "fakenode");
        var fast = BothAgainst(daemon, "-stop", "nosuch");
        CliAssert.Exactly(fast, "NOEXIST\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_Relaxed_EmptyName_ServerClosesSilently()
    {
        // The frame is just "s" (Length 1), which the daemon drops without a reply.
        var daemon = StartDaemon("-relaxed_command_check");
        var fast = BothAgainst(daemon, "-stop", "");
        CliAssert.Exactly(fast, "epmd: local epmd responded with <>\n", "", 1, "fastepmd");
    }

    [Test]
    public void Stop_Relaxed_RegisteredName_Stopped()
    {
        var fast = BothAgainstFresh(() =>
        {
            var d = StartDaemon("-relaxed_command_check");
            Register(d, "fakenode");
            return d;
        }, "-stop", "fakenode");
        CliAssert.Exactly(fast, "STOPPED\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_Relaxed_UnicodeName_Stopped()
    {
        var fast = BothAgainstFresh(() =>
        {
            var d = StartDaemon("-relaxed_command_check");
            Register(d, "n\u00f8de-\U0001F608");
            return d;
        }, "-stop", "n\u00f8de-\U0001F608");
        CliAssert.Exactly(fast, "STOPPED\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_Relaxed_1000ByteName_NoExist()
    {
        var daemon = StartDaemon("-relaxed_command_check");
        var fast = BothAgainst(daemon, "-stop", new string('a', 1000));
        CliAssert.Exactly(fast, "NOEXIST\n", "", 0, "fastepmd");
    }

    private static string Rx(string literal) => System.Text.RegularExpressions.Regex.Escape(literal);
}

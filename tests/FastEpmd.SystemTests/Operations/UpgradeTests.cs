// `fastepmd -upgrade` without systemd, against the built binary: real OTP nodes and raw ALIVE2
// registrations held by the test, a PORT_PLEASE2 + NAMES loop running throughout, and the handoffs
// that must not happen (a format the new binary does not read, a new process killed mid-handoff, a
// stranger). Faults come from handoff_fault_proxy.py on the control conversation, not from the
// binary (UpgradeFencingTests has every step).
using System.Diagnostics;
using System.Text;
using FastEpmd.SystemTests.EndToEnd;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Category("Interop")]
[Parallelizable(ParallelScope.Self)]
public class UpgradeTests
{
    private static readonly TimeSpan s_exit = TimeSpan.FromSeconds(10);

    private readonly List<IDisposable> _owned = new();

    [TearDown]
    public void StopEverything()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private DaemonProcess StartNew(DaemonProcess old, IDictionary<string, string?>? env = null, params string[] extra) =>
        Own(DaemonProcess.Start(old.Binary, new[] { "-upgrade", "-port", old.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }
            .Concat(extra).ToArray(), env, port: old.Port, waitForListen: false));

    /// <summary>Raw registrations the test holds: name, its open ALIVE socket, its creation.</summary>
    private List<(string Name, RawEpmdClient Socket, uint Creation)> RegisterRaw(DaemonProcess daemon, int count)
    {
        var nodes = new List<(string, RawEpmdClient, uint)>();
        for (int i = 0; i < count; i++)
        {
            string name = "raw" + i;
            var socket = Own(E2e.Register(daemon, Requests.Alive(name, 20000 + i), out uint creation));
            nodes.Add((name, socket, creation));
        }
        return nodes;
    }

    private static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static string Dump(DaemonProcess d) => E2e.NormaliseFds(Text(d.Request(Requests.Dump).Data));

    /// <summary>Open and unread: the daemon neither closed it nor wrote to it.</summary>
    private static void AssertOpenAndUnread(IEnumerable<(string Name, RawEpmdClient Socket, uint Creation)> nodes)
    {
        foreach (var (name, socket, _) in nodes)
            Assert.That(socket.Socket.Poll(0, System.Net.Sockets.SelectMode.SelectRead), Is.False, name + "'s ALIVE connection was closed or written to");
    }

    private static string OneLine(string stderr) => string.Join(" | ", stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    [Test]
    public void Upgrade_under_load_keeps_every_registration_connection_and_creation_and_answers_every_lookup()
    {
        var old = Own(DaemonProcess.StartFastEpmd());
        var erlNodes = new[] { Own(ErlNode.Start("up_a", old.Port, Ports.Free())), Own(ErlNode.Start("up_b", old.Port, Ports.Free())) };
        var raw = RegisterRaw(old, 48);
        var allNames = raw.Select(n => n.Name).Concat(new[] { "up_a", "up_b" }).ToArray();
        var watch = Stopwatch.StartNew();
        while (!allNames.All(Text(old.Request(Requests.Names).Data).Contains) && watch.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(100);
        string namesBefore = Text(old.Request(Requests.Names).Data);
        Assert.That(allNames.All(n => namesBefore.Contains($"name {n} at port")), Is.True, "all registered before: " + namesBefore
            + string.Join("\n", erlNodes.Select(e => e.Describe())));
        string dumpBefore = Dump(old);

        // The loop: PORT_PLEASE2 of each name in turn, and NAMES, from before the upgrade to after it.
        using var stop = new CancellationTokenSource();
        int lookups = 0, names = 0;
        long worstMs = 0;
        var failures = new List<string>();
        var loop = Task.Run(() =>
        {
            var deadline = Stopwatch.StartNew();
            for (int i = 0; !stop.IsCancellationRequested && deadline.Elapsed < TimeSpan.FromSeconds(30); i++)
            {
                var one = Stopwatch.StartNew();
                string name = allNames[i % allNames.Length];
                var port = old.Request(Requests.PortPlease(name), TimeSpan.FromSeconds(3)).Data;
                if (port.Length < 2 || port[0] != 0x77 || port[1] != 0) failures.Add($"PORT_PLEASE2 {name}: [{Hex.Format(port)}]");
                else lookups++;
                string listed = Text(old.Request(Requests.Names, TimeSpan.FromSeconds(3)).Data);
                if (listed != namesBefore) failures.Add("NAMES differs: " + listed);
                else names++;
                worstMs = Math.Max(worstMs, one.ElapsedMilliseconds);
            }
        });
        Thread.Sleep(300);

        var handoff = Stopwatch.StartNew();
        var fresh = StartNew(old);
        Assert.That(old.WaitExit(s_exit), Is.EqualTo(0), "the old daemon exits 0 once the new one took over: " + OneLine(old.Stderr));
        long handoffMs = handoff.ElapsedMilliseconds;
        Thread.Sleep(500);
        stop.Cancel();
        Assert.That(loop.Wait(TimeSpan.FromSeconds(10)), Is.True, "the query loop ends");

        Assert.That(failures, Is.Empty);
        Assert.That(lookups, Is.GreaterThan(10));
        Assert.That(fresh.HasExited, Is.False, "the new daemon serves: " + OneLine(fresh.Stderr));
        Assert.That(fresh.Stderr, Does.Contain("50 registrations adopted, 0 dropped"));
        Assert.That(old.Stderr, Does.Contain("handed over to pid " + fresh.Pid + ": 50 registrations"));
        AssertOpenAndUnread(raw);
        foreach (var e in erlNodes) Assert.That(e.HasExited, Is.False, e.Describe());
        Assert.That(Text(fresh.Request(Requests.Names).Data), Is.EqualTo(namesBefore));
        Assert.That(Dump(fresh), Is.EqualTo(dumpBefore), "DUMP apart from fd numbers");

        // Each creation was kept: a name that comes back gets the next one, not a fresh one from the clock.
        var (name0, socket0, creation0) = raw[0];
        // creation0 is the clock + 1 when it registered: a second later a fresh one differs from it + 1.
        while (E2e.NowSeconds() <= creation0) Thread.Sleep(50);
        socket0.Dispose();
        watch.Restart();
        while (Text(fresh.Request(Requests.Names).Data).Contains($"name {name0} at port") && watch.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(20);
        Own(E2e.Register(fresh, Requests.Alive(name0, 20000), out uint again));
        Assert.That(again, Is.EqualTo(creation0 + 1), $"{name0} came back with creation {again}; before the upgrade it had {creation0}");
        Assert.That(again, Is.Not.EqualTo((uint)E2e.NowSeconds() + 1), "not told apart from a clock creation");
        TestContext.Out.WriteLine($"handoff of 50 registrations: old daemon gone {handoffMs} ms after starting -upgrade; " +
            $"{lookups} lookups and {names} NAMES answered, slowest pair {worstMs} ms");
    }

    /// <summary>A private run directory (0700) for a daemon or the proxy.</summary>
    private string RunDirectory()
    {
        var d = Directory.CreateTempSubdirectory("fastepmd-ctrl-").FullName;
        Own(new Cleanup(() => Directory.Delete(d, recursive: true)));
        return d;
    }

    private sealed class Cleanup(Action action) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                action();
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The old daemon in its own run directory, and the proxy between it and a new process's directory.</summary>
    private (DaemonProcess Old, string NewDirectory, string OldDirectory) StartBehindProxy(string rule, params string[] args)
    {
        string oldDir = RunDirectory(), newDir = RunDirectory();
        var old = Own(DaemonProcess.Start(Binaries.FastEpmd, args, new Dictionary<string, string?> { ["RUNTIME_DIRECTORY"] = oldDir }));
        string name = $"control-{old.Port}.sock";
        var script = Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Operations", "handoff_fault_proxy.py");
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { script, Path.Combine(newDir, name), Path.Combine(oldDir, name), rule }) psi.ArgumentList.Add(a);
        var proxy = Process.Start(psi)!;
        Own(new Cleanup(() =>
        {
            if (!proxy.HasExited) proxy.Kill();
            proxy.Dispose();
        }));
        Assert.That(proxy.StandardOutput.ReadLine(), Does.EndWith(" listening"));
        return (old, newDir, oldDir);
    }

    [Test]
    public void A_state_format_the_new_binary_does_not_read_is_refused_with_one_line_and_the_old_daemon_serves_on()
    {
        var (old, newDir, _) = StartBehindProxy("old:O:format=99", "-d");
        var raw = RegisterRaw(old, 5);
        string namesBefore = Text(old.Request(Requests.Names).Data);
        string dumpBefore = Dump(old);

        var refusing = StartNew(old, new Dictionary<string, string?> { ["RUNTIME_DIRECTORY"] = newDir });
        Assert.That(refusing.WaitExit(s_exit), Is.EqualTo(1));
        var lines = refusing.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), refusing.Stderr);
        Assert.That(lines[0], Does.Contain("-upgrade: state format 99 is not one this binary reads (1)"));

        Assert.That(old.HasExited, Is.False);
        var watch = Stopwatch.StartNew();
        while (!old.Stderr.Contains("serving on") && watch.Elapsed < s_exit) Thread.Sleep(20);
        Assert.That(old.Stderr, Does.Contain("did not happen (refused: state format 99 is not one this binary reads (1)); serving on"));
        AssertOpenAndUnread(raw);
        Assert.That(Text(old.Request(Requests.Names).Data), Is.EqualTo(namesBefore));
        Assert.That(Dump(old), Is.EqualTo(dumpBefore));
        Own(E2e.Register(old, Requests.Alive("after_refusal", 30000), out _));
    }

    [Test]
    public void A_new_process_killed_mid_handoff_leaves_the_old_daemon_serving_and_a_later_upgrade_works()
    {
        var (old, newDir, oldDir) = StartBehindProxy("old:E:kill-receiver");
        var raw = RegisterRaw(old, 5);
        string dumpBefore = Dump(old);

        // Killed once it holds every descriptor (End delivered), before it accepts.
        var dying = StartNew(old, new Dictionary<string, string?> { ["RUNTIME_DIRECTORY"] = newDir });
        Assert.That(dying.WaitExit(s_exit), Is.EqualTo(128 + 9), "killed by SIGKILL holding every descriptor");
        Assert.That(old.HasExited, Is.False);
        var watch = Stopwatch.StartNew();
        while (!old.Stderr.Contains("serving on") && watch.Elapsed < s_exit) Thread.Sleep(20);
        // The pid is the proxy's (SO_PEERCRED of the connection the old daemon accepted).
        Assert.That(old.Stderr, Does.Contain(" did not happen (the other process closed the connection); serving on"));
        AssertOpenAndUnread(raw);
        Assert.That(Dump(old), Is.EqualTo(dumpBefore));

        // Straight to the old daemon's own socket this time.
        var fresh = StartNew(old, new Dictionary<string, string?> { ["RUNTIME_DIRECTORY"] = oldDir });
        Assert.That(old.WaitExit(s_exit), Is.EqualTo(0), OneLine(old.Stderr) + " / " + OneLine(fresh.Stderr));
        Assert.That(Dump(fresh), Is.EqualTo(dumpBefore));
        AssertOpenAndUnread(raw);
    }

    [Test]
    public void Upgrade_with_no_daemon_on_the_control_socket_exits_1_with_one_line()
    {
        int port = Ports.Free();
        var lonely = Own(DaemonProcess.Start(Binaries.FastEpmd, new[] { "-upgrade", "-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            null, port: port, waitForListen: false));
        Assert.That(lonely.WaitExit(s_exit), Is.EqualTo(1));
        var lines = lonely.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), lonely.Stderr);
        Assert.That(lines[0], Does.EndWith($"-upgrade: no daemon answers on the upgrade control socket /run/fastepmd/control-{port}.sock"));
    }

    [Test]
    public void Daemons_on_one_port_in_two_network_namespaces_each_keep_their_own_control_socket_and_upgrade()
    {
        // `ip netns exec` keeps the host's /run: two daemons on one port, one per namespace, used
        // to share one control socket name. The second had no -upgrade ("another daemon listens"),
        // and an -upgrade run in its namespace took over the first daemon instead.
        Assume.That(NetNamespace.IsRoot, "network namespaces need root (ip netns add)");
        var ns = Own(NetNamespace.Create("ctl"));
        const int port = 4369;   // inside the test's own namespaces only
        var first = Own(ns.StartDaemon(Binaries.FastEpmd, port));
        var second = Own(ns.StartClientDaemon(Binaries.FastEpmd, port));
        var inFirst = Own(NetNamespace.RunIn(ns.Server, () => RawEpmdClient.RegisterOk(port, "first", 5001, out _)));
        var inSecond = Own(NetNamespace.RunIn(ns.Client, () => RawEpmdClient.RegisterOk(port, "second", 5002, out _)));
        Assert.That(first.Stderr + second.Stderr, Does.Not.Contain("no -upgrade"), "each daemon has its control socket");

        var upgrade = Own(DaemonProcess.Start("ip", new[] { "netns", "exec", ns.Client, Binaries.FastEpmd, "-upgrade", "-port", "4369" },
            null, port: port, waitForListen: false));
        Assert.That(second.WaitExit(s_exit), Is.EqualTo(0), "the second namespace's daemon handed over: " + OneLine(upgrade.Stderr));
        Assert.That(first.HasExited, Is.False, "the first namespace's daemon is untouched: " + OneLine(first.Stderr));
        Assert.That(upgrade.HasExited, Is.False, OneLine(upgrade.Stderr));
        byte[] Lookup(string inNs, string name) => NetNamespace.RunIn(inNs, () =>
            RawEpmdClient.Query(port, Requests.PortPlease(name)).Data);
        Assert.That(Lookup(ns.Client, "second")[..4], Is.EqualTo(Hex.Parse("77 00 13 8a")), "the new process serves the second namespace's node");
        Assert.That(Lookup(ns.Client, "first"), Is.EqualTo(Hex.Parse("77 01")));
        Assert.That(Lookup(ns.Server, "first")[..4], Is.EqualTo(Hex.Parse("77 00 13 89")), "the first daemon still serves its node");
        Assert.That(inFirst.Poll(0, System.Net.Sockets.SelectMode.SelectRead), Is.False, "first's ALIVE connection is untouched");
        Assert.That(inSecond.Poll(0, System.Net.Sockets.SelectMode.SelectRead), Is.False, "second's ALIVE connection is untouched");
    }

    [Test]
    public void A_same_uid_process_sharing_the_network_but_not_the_mounts_cannot_reach_the_control_socket_and_the_daemons_own_side_can()
    {
        // The sidecar layout: the application's container shares the pod's network namespace and
        // uid, not its mounts. unshare -m plus a tmpfs over the run directory makes that here. An
        // abstract socket (main until fb5f249) was reachable from there.
        Assume.That(Environment.UserName, Is.EqualTo("root"), "unshare -m and mount need root");
        var old = Own(DaemonProcess.StartFastEpmd("-d"));
        var raw = RegisterRaw(old, 3);
        string port = old.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var psi = new ProcessStartInfo("unshare") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--mount", "--propagation", "private", "sh", "-c",
            "mkdir -p /run/fastepmd && mount -t tmpfs -o mode=0700 sidecar /run/fastepmd && exec \"$0\" -upgrade -port \"$1\"", old.Binary, port })
            psi.ArgumentList.Add(a);
        using var sidecar = Process.Start(psi)!;
        string stderr = sidecar.StandardError.ReadToEnd();
        Assert.That(sidecar.WaitForExit(10_000), Is.True);
        Assert.That(sidecar.ExitCode, Is.EqualTo(1), stderr);
        Assert.That(stderr.TrimEnd(), Does.EndWith($"-upgrade: no daemon answers on the upgrade control socket /run/fastepmd/control-{port}.sock"));
        Assert.That(old.HasExited, Is.False);
        Assert.That(old.Stderr, Does.Not.Contain("upgrade"), "the daemon never heard of it");
        AssertOpenAndUnread(raw);

        // The documented command, from the daemon's own side.
        var fresh = StartNew(old);
        Assert.That(old.WaitExit(s_exit), Is.EqualTo(0), OneLine(old.Stderr) + " / " + OneLine(fresh.Stderr));
        Assert.That(fresh.HasExited, Is.False);
        AssertOpenAndUnread(raw);
        Assert.That(Text(fresh.Request(Requests.PortPlease("raw0")).Data)[0], Is.EqualTo('w'));
    }

    [Test]
    public void Another_user_cannot_take_a_root_daemons_registrations()
    {
        Assume.That(Environment.UserName, Is.EqualTo("root"), "needs root to run the stranger as nobody");
        var old = Own(DaemonProcess.StartFastEpmd("-d"));
        var raw = RegisterRaw(old, 2);
        var psi = new ProcessStartInfo("setpriv")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // Told where root's daemon listens (by itself it would look in its own /tmp/fastepmd-65534).
        psi.Environment["RUNTIME_DIRECTORY"] = "/run/fastepmd";
        foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", old.Binary, "-upgrade", "-port", old.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var stranger = Process.Start(psi)!;
        string stderr = stranger.StandardError.ReadToEnd();
        Assert.That(stranger.WaitForExit(10_000), Is.True);
        Assert.That(stranger.ExitCode, Is.EqualTo(1), stderr);
        // The socket's directory is root's, mode 0700: the stranger cannot even reach it.
        Assert.That(stderr, Does.Contain($"-upgrade: cannot reach the upgrade control socket /run/fastepmd/control-{old.Port}.sock: "));
        Assert.That(stderr, Does.Contain("ermission denied"));
        Assert.That(old.HasExited, Is.False);
        AssertOpenAndUnread(raw);
    }
}

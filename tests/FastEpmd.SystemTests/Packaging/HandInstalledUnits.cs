// The units installed by hand (README, "Install by hand") on a host where Debian's epmd runs:
// epmd.socket and epmd.service active, node x registered with OTP's epmd (where
// RemoveAndPurgeBringDebiansEpmdBack leaves the machine). The README's own commands, read from its code
// blocks, take 4369 over in one transaction (Conflicts= plus ordering: the stop of OTP's epmd
// finishes before fastepmd.socket binds) and give it back the same way, while NAMES runs in a loop;
// the longest time without an answer is the figure. Then OTP's `epmd -kill` with no node registered
// ends FastEpmd as it ends OTP's epmd, and the socket unit starts the next one.
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Packaging;

public partial class DebPackageTests
{
    private static string ProbeScript => Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Packaging", "HandInstalledProbe.py");

    /// <summary>The `sudo systemctl` lines of README's code block number `block` in "### Install by hand", without sudo and comments.</summary>
    private static string[] ReadmeSystemctlLines(int block)
    {
        var readme = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "README.md"));
        int at = readme.IndexOf("### Install by hand", StringComparison.Ordinal);
        var section = readme[at..readme.IndexOf("\n### ", at + 5, StringComparison.Ordinal)];
        var blocks = Regex.Matches(section, "```sh\n(.*?)```", RegexOptions.Singleline);
        Assert.That(blocks, Has.Count.GreaterThan(block), "README \"Install by hand\" code blocks");
        return blocks[block].Groups[1].Value.Split('\n')
            .Where(l => l.StartsWith("sudo systemctl ", StringComparison.Ordinal))
            .Select(l => Regex.Replace(l["sudo ".Length..], @"\s+#.*$", "").Trim())
            .ToArray();
    }

    /// <summary>Runs `commands` in the machine while the probe sends NAMES; returns the probe's summary.</summary>
    private (JsonElement Probe, CliOutcome Commands, long Ms) WhileProbing(string[] commands)
    {
        var stop = Path.Combine(Binaries.RepoRoot, "out", "nspawn", "hand-probe-stop-" + Environment.ProcessId);
        File.Delete(stop);
        var probe = InMachineNet("python3", new[] { ProbeScript, "60", stop }, Binaries.RepoRoot);
        _hostNodes.Add(probe);   // ended by PID at tear-down if it hangs
        Assert.That(ReadLine(probe, TimeSpan.FromSeconds(20), "the NAMES probe"), Is.EqualTo("running"));
        Thread.Sleep(300);
        var clock = Stopwatch.StartNew();
        var run = M.Sh(string.Join(" && ", commands), TimeSpan.FromSeconds(60));
        long ms = clock.ElapsedMilliseconds;
        Thread.Sleep(500);
        File.WriteAllText(stop, "");
        var summary = JsonDocument.Parse(ReadLine(probe, TimeSpan.FromSeconds(30), "the NAMES probe")).RootElement;
        probe.WaitForExit(5000);
        File.Delete(stop);
        return (summary, run, ms);
    }

    private void AssertServedThroughout(string what, JsonElement probe)
    {
        Assert.That(probe.GetProperty("requests").GetInt32(), Is.GreaterThan(20), what);
        // A stop and a bind cannot be one step: a connect in between is reset or refused (the
        // failures counted). The window must be short, and the port served again after it.
        Assert.That(probe.GetProperty("unserved_ms").GetDouble(), Is.LessThan(1000), what + ": " + probe);
        Assert.That(probe.GetProperty("served_at_end").GetBoolean(), Is.True, what + ": " + probe);
    }

    private string _xUnit = "erl-x";
    private int _xStarts;

    /// <summary>Node x again, in a unit of a new name (a stopped transient unit can stay loaded a while).</summary>
    private void StartNodeX()
    {
        _xUnit = $"erl-x{++_xStarts}";
        M.Ok($"systemd-run --unit={_xUnit} --setenv=HOME=/root /usr/bin/erl -sname x -setcookie c -noshell");
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    [Test, Order(13)]
    public void HandInstalledUnitsTakeOverFromARunningDebianEpmdAndGiveItBack()
    {
        // Where RemoveAndPurgeBringDebiansEpmdBack leaves the machine; alone, a fresh machine gets there too.
        if (M.Sh("systemctl is-active erl-x").StdoutText.Trim() != "active") StartNodeX();
        Assert.That(WaitListed("epmd -names", TimeSpan.FromSeconds(20)), Is.Not.Null, "x registers with OTP's epmd");
        Assert.That(M.Sh("systemctl is-active epmd.socket epmd.service").StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            Is.EqualTo(new[] { "active", "active" }), "Debian's epmd serves before the takeover");
        // README: the binary to /usr/sbin, the units to /etc/systemd/system (the package's binary, the repository's units).
        M.Ok("rm -rf /root/hand && dpkg-deb -x /root/fastepmd.deb /root/hand && install -m 755 /root/hand/usr/sbin/fastepmd /usr/sbin/fastepmd");
        foreach (var unit in new[] { "fastepmd.socket", "fastepmd.service" })
            File.Copy(Path.Combine(Binaries.RepoRoot, "dist", "systemd", unit), M.HostPath("/etc/systemd/system/" + unit), overwrite: true);

        var takeover = ReadmeSystemctlLines(0);
        Assert.That(takeover, Does.Contain("systemctl enable --now fastepmd.socket"));
        var (probe, run, ms) = WhileProbing(takeover);
        Figure($"hand-installed takeover from a running epmd.socket + epmd.service (`{string.Join("; ", takeover)}`, {ms} ms): "
            + $"{probe.GetProperty("answered")} of {probe.GetProperty("requests")} NAMES answered; no listener for {probe.GetProperty("unserved_ms")} ms, longest wait between answers {probe.GetProperty("longest_gap_ms")} ms (load {Load()})");
        Assert.That(run.ExitCode, Is.EqualTo(0), run + "\n" + M.Sh("journalctl -u fastepmd.socket -u epmd.socket --no-pager -n 20").StdoutText);
        AssertServedThroughout("takeover", probe);
        Assert.That(M.Sh("systemctl is-active fastepmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        foreach (var unit in new[] { "epmd.socket", "epmd.service" })
        {
            Assert.That(M.Sh($"systemctl is-active {unit}").StdoutText.Trim(), Is.EqualTo("inactive"), unit);
            Assert.That(M.Sh($"systemctl is-enabled {unit}").StdoutText.Trim(), Is.EqualTo("masked"), unit);
        }
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Not.Contain("\"epmd\""));
        // Node x saw OTP's epmd close its connection, and registers with FastEpmd.
        Assert.That(WaitListed("fastepmd -names", TimeSpan.FromSeconds(15)), Is.Not.Null, M.Sh("fastepmd -names").ToString());
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"fastepmd\""));

        // With no node registered, OTP's `epmd -kill` ends FastEpmd as it ends OTP's epmd: "Killed",
        // exit 0, a clean stop (no restart); the socket unit keeps the port and starts the next one.
        M.Ok($"systemctl stop {_xUnit}");
        var clock = Stopwatch.StartNew();
        while (Regex.IsMatch(M.Sh("fastepmd -names").StdoutText, "name x at") && clock.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(100);
        string restarts = M.Ok("systemctl show -P NRestarts fastepmd.service");
        var kill = M.Sh("epmd -kill");
        Assert.That((kill.ExitCode, kill.StdoutText), Is.EqualTo((0, "Killed\n")), kill.ToString());
        clock.Restart();
        while (ServiceActive() && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(50);
        Assert.That(M.Ok("systemctl show -p ActiveState -p Result -p ExecMainStatus -p NRestarts fastepmd.service").Split('\n'),
            Is.EquivalentTo(new[] { "ActiveState=inactive", "Result=success", "ExecMainStatus=0", "NRestarts=" + restarts }));
        Assert.That(M.Sh("systemctl is-active fastepmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(M.Ok("epmd -names"), Is.EqualTo("epmd: up and running on port 4369 with data:"));
        Assert.That(ServiceActive(), Is.True, "the next query started FastEpmd again");
        StartNodeX();
        Assert.That(WaitListed("fastepmd -names", TimeSpan.FromSeconds(20)), Is.Not.Null);

        // The README's undo gives the port back to Debian's epmd the same way.
        var undo = ReadmeSystemctlLines(1);
        Assert.That(undo, Does.Contain("systemctl enable --now epmd.socket"));
        (probe, run, ms) = WhileProbing(undo);
        Figure($"hand-installed units undone, back to epmd.socket (`{string.Join("; ", undo)}`, {ms} ms): "
            + $"{probe.GetProperty("answered")} of {probe.GetProperty("requests")} NAMES answered; no listener for {probe.GetProperty("unserved_ms")} ms, longest wait between answers {probe.GetProperty("longest_gap_ms")} ms (load {Load()})");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        AssertServedThroughout("undo", probe);
        Assert.That(M.Sh("systemctl is-active fastepmd.socket fastepmd.service").StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            Is.EqualTo(new[] { "inactive", "inactive" }));
        Assert.That(M.Sh("systemctl is-active epmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(WaitListed("epmd -names", TimeSpan.FromSeconds(15)), Is.Not.Null, "x registers with OTP's epmd again");
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"epmd\""));
        M.Sh($"systemctl stop {_xUnit}");
    }
}

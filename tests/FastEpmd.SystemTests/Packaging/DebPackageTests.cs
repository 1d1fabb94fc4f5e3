// The Debian package (./build.sh deb, built on Debian 12) as an operator meets it on each release:
// lint-checked by the release's lintian, installed with dpkg into a booted Debian 12 or Debian 13
// machine whose erlang-base already enabled epmd.socket, verified by its systemd-analyze, then used
// by a real erl, restarted (DebPackageTests.Continuity: with 100 nodes kept through restart,
// SIGKILL and upgrade), scored by systemd-analyze, removed and purged. The steps of one release
// share one machine and run in order; the two releases' machines run side by side.
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using FastEpmd.SystemTests.Reference;

namespace FastEpmd.SystemTests.Packaging;

[TestFixture("Debian 12")]
[TestFixture("Debian 13")]
[Parallelizable(ParallelScope.Self)]
public partial class DebPackageTests
{
    private readonly DebianRelease _release;
    private NspawnMachine? _machine;
    private double _debiansScore = double.NaN;

    public DebPackageTests(string release) => _release = DebianRelease.Named(release);

    private NspawnMachine M => _machine ?? throw new InvalidOperationException("no machine");

    private static string DebFile()
    {
        var dir = Path.Combine(Binaries.RepoRoot, "out", "deb");
        var deb = Directory.Exists(dir) ? Directory.GetFiles(dir, "fastepmd_*_amd64.deb").SingleOrDefault() : null;
        return deb ?? throw new InvalidOperationException($"no package in {dir}: ./build.sh test runs ./build.sh deb first");
    }

    [OneTimeSetUp]
    public void BootMachine()
    {
        var deb = DebFile();
        _machine = NspawnMachine.Boot("fastepmd-deb-" + _release.Codename, _release, out var reason);
        if (_machine is null) Assert.Ignore("systemd-nspawn cannot boot a machine here: " + reason);
        File.Copy(deb, M.HostPath("/root/fastepmd.deb"));
    }

    [OneTimeTearDown]
    public void PowerOff() => _machine?.Dispose();

    private void Figure(string text) => Figures.Report($"deb/nspawn {_release}", text);

    private static long Number(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    [Test, Order(0)]
    public void TheReleasesLintianPassesWithFailOnErrorAndWarning()
    {
        // Debian 12's lintian is the host's; Debian 13's runs in its root. The package's overrides
        // name only tags both know, so neither reports an unknown or unused override.
        var changes = Directory.GetFiles(Path.Combine(Binaries.RepoRoot, "out", "deb"), "fastepmd_*_amd64.changes").Single();
        var (file, args) = _release.Command("lintian", "--fail-on", "error,warning", "--suppress-tags", "bad-distribution-in-changes-file", changes);
        var env = new Dictionary<string, string?> { ["IN_ROOT_BIND"] = Path.Combine(Binaries.RepoRoot, "out", "deb") };
        var lint = CliRun.Run(file, args, env, timeout: TimeSpan.FromMinutes(4));
        var version = _release.Command("lintian", "--version");
        Figure($"lintian --fail-on error,warning: exit {lint.ExitCode}, {lint.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length} lines "
            + $"({CliRun.Run(version.File, version.Args, timeout: TimeSpan.FromMinutes(1)).StdoutText.Trim()})");
        Assert.That(lint.ExitCode, Is.EqualTo(0), lint.ToString());
        Assert.That(lint.StdoutText + lint.StderrText, Does.Not.Match("(?m)^[EW]: "), lint.ToString());
    }

    [Test, Order(1)]
    public void FreshInstallTakesThePortFromDebiansEpmd()
    {
        // Before: erlang-base's socket unit holds 4369, as on any Debian host with Erlang.
        Assert.That(M.Sh("systemctl is-active epmd.socket").StdoutText.Trim(), Is.EqualTo("active"));

        _debiansScore = SecurityScore("epmd.service");

        var install = M.Sh("dpkg -i /root/fastepmd.deb", TimeSpan.FromSeconds(60));
        Assert.That(install.ExitCode, Is.EqualTo(0), install.ToString());

        Assert.That(M.Sh("systemctl is-active fastepmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(M.Sh("systemctl is-enabled fastepmd.socket").StdoutText.Trim(), Is.EqualTo("enabled"));
        Assert.That(M.Sh("systemctl is-active fastepmd.service").StdoutText.Trim(), Is.EqualTo("inactive"),
            "the service starts on the first connection, not on install");
        foreach (var unit in new[] { "epmd.socket", "epmd.service" })
        {
            Assert.That(M.Sh($"systemctl is-enabled {unit}").StdoutText.Trim(), Is.EqualTo("masked"), unit);
            Assert.That(M.Sh($"systemctl is-active {unit}").StdoutText.Trim(), Is.EqualTo("inactive"), unit);
        }
        // systemd itself (the socket unit) holds the port until the first connection.
        var listener = M.Ok("ss -Htlnp 'sport = :4369'");
        Assert.That(listener, Does.Contain("\"systemd\""));
        Assert.That(M.Ok("systemctl show -P Conflicts fastepmd.socket"), Does.Contain("epmd.socket").And.Contain("epmd.service"));
        Assert.That(M.Ok("test -x /usr/sbin/fastepmd && test -f /usr/share/man/man8/fastepmd.8.gz && echo ok"), Is.EqualTo("ok"));
        // Where both releases' systemd read units, and nothing under the /lib alias Debian 13 forbids.
        Assert.That(M.Ok("dpkg -L fastepmd | grep '/systemd/system/' | sort | tr '\\n' ' '"),
            Is.EqualTo("/usr/lib/systemd/system/fastepmd.service /usr/lib/systemd/system/fastepmd.socket"));
        // systemd loaded that file (Debian 12's 252 names it by its /lib alias, the same file on a merged /usr).
        Assert.That(M.Ok("readlink -f \"$(systemctl show -P FragmentPath fastepmd.socket)\""), Is.EqualTo("/usr/lib/systemd/system/fastepmd.socket"));
    }

    [Test, Order(2)]
    public void SystemdAnalyzeVerifyPasses()
    {
        // --man=no: the machine has no man-db; the man page the units name is checked by ShippedFilesTests.
        var verify = M.Sh("systemd-analyze verify --man=no /usr/lib/systemd/system/fastepmd.socket /usr/lib/systemd/system/fastepmd.service");
        Assert.That(verify.ExitCode, Is.EqualTo(0), verify.ToString());
        Assert.That(verify.StdoutText + verify.StderrText, Does.Not.Contain("fastepmd"), verify.ToString());
    }

    [Test, Order(3)]
    public void TheFirstConnectionStartsTheService()
    {
        var timed = M.Ok("a=$(date +%s%N); fastepmd -names >/tmp/first; rc=$?; b=$(date +%s%N); "
            + "fastepmd -names >/dev/null; c=$(date +%s%N); echo $rc $(( (b-a)/1000 )) $(( (c-b)/1000 ))");
        var parts = timed.Split(' ');
        Assert.That(parts[0], Is.EqualTo("0"), M.Sh("cat /tmp/first; journalctl -u fastepmd.service --no-pager").StdoutText);
        Figure($"activation latency (first `fastepmd -names`, service started by the socket): {Number(parts[1]) / 1000.0:F1} ms; "
            + $"next query {Number(parts[2]) / 1000.0:F1} ms");
        Assert.That(M.Ok("cat /tmp/first"), Does.StartWith("epmd: up and running on port 4369 with data:"));
        Assert.That(M.Sh("systemctl is-active fastepmd.service").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(M.Ok("journalctl -u fastepmd.service -o cat --no-pager"), Does.Contain("fastepmd: serving").And.Contain("(table 16384 connections)"));
        var limits = M.Ok("grep 'Max open files' /proc/$(systemctl show -P MainPID fastepmd.service)/limits");
        var manager = M.Ok("grep 'Max open files' /proc/1/limits");
        Figure($"descriptors: service {Regex.Replace(limits, @"\s+", " ")}; manager {Regex.Replace(manager, @"\s+", " ")} "
            + "(the unit asks LimitNOFILE=16448; systemd clamps it to the manager's hard limit)");
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"fastepmd\""));
    }

    [Test, Order(4)]
    public void ErlWithoutStartEpmdFalseRegistersWithFastEpmd()
    {
        // erl runs its own `epmd -daemon`, which finds 4369 taken and exits 0.
        M.Ok("systemd-run --unit=erl-x --setenv=HOME=/root /usr/bin/erl -sname x -setcookie c -noshell");
        var listed = WaitListed("epmd -names", TimeSpan.FromSeconds(20));
        Assert.That(listed, Is.Not.Null, "OTP's epmd -names never listed x: " + M.Sh("epmd -names; systemctl status erl-x --no-pager").StdoutText);
        Assert.That(M.Ok("fastepmd -names"), Does.Match(@"name x at port \d+"));
        Assert.That(M.Sh("pgrep -x epmd").ExitCode, Is.EqualTo(1), "OTP's epmd must not be running: " + M.Sh("ps -ef").StdoutText);
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"fastepmd\""));
    }

    [Test, Order(5)]
    public void RestartAnswersEveryQueryAndTheNodeComesBack()
    {
        // Queries for 2 s from inside the machine, each logged with its start, end and exit code,
        // while the service restarts in the middle.
        const string script = """
            end=$(( $(date +%s%N) + 2000000000 ))
            ( while [ $(date +%s%N) -lt $end ]; do a=$(date +%s%N); fastepmd -names >/dev/null 2>&1; rc=$?; echo "$a $(date +%s%N) $rc"; done >/tmp/queries ) &
            sleep 0.3
            s=$(date +%s%N); systemctl restart fastepmd.service; e=$(date +%s%N)
            w=0; while [ $w -lt 100 ] && ! epmd -names | grep -q 'name x at port'; do sleep 0.05; w=$((w+1)); done
            l=$(date +%s%N)
            wait
            echo "$s $e $l"
            cat /tmp/queries
            """;
        var lines = M.Ok(script, TimeSpan.FromSeconds(30)).Split('\n');
        var marks = lines[0].Split(' ').Select(Number).ToArray();
        long restartStart = marks[0], restartEnd = marks[1], relisted = marks[2];
        var queries = lines.Skip(1).Select(l => l.Split(' ').Select(Number).ToArray()).ToArray();
        // A query overlaps the restart when it started before the restart ended and ended after it began.
        var during = queries.Where(q => q[0] < restartEnd && q[1] > restartStart).ToArray();
        long failed = queries.Count(q => q[2] != 0);
        long restartMs = (restartEnd - restartStart) / 1_000_000, relistMs = (relisted - restartEnd) / 1_000_000;
        Figure($"restart: {queries.Length} queries in a 2 s window, {during.Length} of them during the restart, {failed} unanswered; "
            + $"`systemctl restart` took {restartMs} ms; node x listed again {relistMs} ms after it");
        Assert.That(during, Is.Not.Empty, "no query overlapped the restart");
        Assert.That(failed, Is.EqualTo(0), "every query sent during the restart is answered (the socket unit keeps the port)");
        Assert.That(relistMs, Is.LessThanOrEqualTo(3000), M.Sh("epmd -names").ToString());
        Assert.That(M.Ok("epmd -names"), Does.Match(@"name x at port \d+"));
    }

    [Test, Order(10)]
    public void SecurityExposureIsAtMostTwo()
    {
        double ours = SecurityScore("fastepmd.service");
        Figure($"systemd-analyze security: fastepmd.service {ours:F1} (Debian's epmd.service, before the install: {_debiansScore:F1})");
        Assert.That(ours, Is.LessThanOrEqualTo(2.0));
    }

    private double SecurityScore(string unit)
    {
        var r = M.Sh($"systemd-analyze security --no-pager {unit}");
        var m = Regex.Match(r.StdoutText, @"Overall exposure level for " + Regex.Escape(unit) + @": (\d+\.\d)");
        Assert.That(m.Success, Is.True, r.ToString());
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Test, Order(12)]
    public void RemoveAndPurgeBringDebiansEpmdBack()
    {
        // apt-get remove runs exactly this dpkg step; the machine has no network for apt.
        var remove = M.Sh("dpkg -r fastepmd", TimeSpan.FromSeconds(60));
        Assert.That(remove.ExitCode, Is.EqualTo(0), remove.ToString());
        Assert.That(M.Sh("systemctl is-enabled epmd.socket").StdoutText.Trim(), Is.EqualTo("enabled"));
        Assert.That(M.Sh("systemctl is-active epmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(M.Sh("pgrep -x fastepmd").ExitCode, Is.EqualTo(1), "fastepmd still runs");
        Assert.That(M.Sh("test -e /etc/systemd/system/epmd.socket || test -e /etc/systemd/system/epmd.service").ExitCode, Is.EqualTo(1), "masks left behind");
        // The node notices its epmd went away and registers with OTP's epmd, now socket-activated again.
        Assert.That(WaitListed("epmd -names", TimeSpan.FromSeconds(10)), Is.Not.Null, M.Sh("epmd -names").ToString());
        Assert.That(M.Sh("systemctl is-active epmd.service").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"epmd\""));
        var purge = M.Sh("dpkg -P fastepmd", TimeSpan.FromSeconds(60));
        Assert.That(purge.ExitCode, Is.EqualTo(0), purge.ToString());
        Assert.That(purge.StdoutText + purge.StderrText, Does.Not.Contain("warning"), purge.ToString());
        Assert.That(M.Sh("test -e /var/lib/fastepmd").ExitCode, Is.EqualTo(1));

        // Purged straight from installed (dpkg -P without a remove first): the port goes back too.
        var again = M.Sh("dpkg -i /root/fastepmd.deb && fastepmd -names", TimeSpan.FromSeconds(60));
        Assert.That(again.ExitCode, Is.EqualTo(0), again.ToString());
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"fastepmd\""));
        Assert.That(M.Sh("systemctl is-enabled epmd.socket").StdoutText.Trim(), Is.EqualTo("masked"));
        var direct = M.Sh("dpkg -P fastepmd", TimeSpan.FromSeconds(60));
        Assert.That(direct.ExitCode, Is.EqualTo(0), direct.ToString());
        Assert.That(direct.StdoutText + direct.StderrText, Does.Not.Contain("warning"), direct.ToString());
        Assert.That(M.Sh("systemctl is-enabled epmd.socket").StdoutText.Trim(), Is.EqualTo("enabled"));
        Assert.That(M.Sh("systemctl is-active epmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(WaitListed("epmd -names", TimeSpan.FromSeconds(10)), Is.Not.Null, M.Sh("epmd -names").ToString());
        Assert.That(M.Ok("ss -Htlnp 'sport = :4369'"), Does.Contain("\"epmd\""));
        Assert.That(M.Sh("test -e /var/lib/fastepmd || test -e /etc/systemd/system/epmd.socket || test -e /usr/lib/systemd/system/fastepmd.socket").ExitCode,
            Is.EqualTo(1), "nothing of the package left");
    }

    private string? WaitListed(string command, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var r = M.Sh(command);
            if (r.ExitCode == 0 && Regex.IsMatch(r.StdoutText, @"name x at port \d+")) return r.StdoutText;
            Thread.Sleep(200);
        }
        return null;
    }
}

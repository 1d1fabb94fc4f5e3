// Debian's erlang-base on a host that runs FastEpmd, with its own maintainer scripts: its prerm
// (upgrade and remove) runs `pid=$(pgrep epmd | head -1)`, which matches fastepmd, then
// `epmd -kill` (refused while nodes are registered, as OTP's) `|| kill $pid`: a SIGTERM from
// outside systemd. Its postinst unmasks, enables and restarts epmd.service and epmd.socket. In the
// same machine and with the same 100 nodes as DebPackageTests.Continuity, each of install, upgrade,
// reinstall and removal keeps every registration and answers every lookup: the stray SIGTERM ends
// the process with status 75, which the unit restarts (RestartForceExitStatus=), and the new process
// adopts every registration from the descriptor store. Then `systemctl stop` still ends them all.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Packaging;

public partial class DebPackageTests
{
    /// <summary>erlang-base's own packages for the machine's release (ErlangBaseDebs.sh, run by ./build.sh test).</summary>
    private string[] ErlangBaseDebs()
    {
        string release = M.Ok(". /etc/os-release && echo $VERSION_CODENAME");
        var dir = Path.Combine(Binaries.RepoRoot, "out", "erlang-base", release);
        var debs = Directory.Exists(dir) ? Directory.GetFiles(dir, "erlang-base_*_amd64.deb") : Array.Empty<string>();
        if (debs.Length == 0)
            throw new InvalidOperationException($"no erlang-base packages in {dir}: ./build.sh test runs tests/FastEpmd.SystemTests/Packaging/ErlangBaseDebs.sh {release}");
        if (debs.Length > 1) return debs;
        // One version in the archive (trixie, as of writing): the same package under a bumped
        // version is an upgrade to dpkg, with the same maintainer scripts.
        var newer = Path.Combine(dir, "newer");
        var built = Directory.Exists(newer) ? Directory.GetFiles(newer, "*.deb") : Array.Empty<string>();
        if (built.Length == 1) return debs.Append(built[0]).ToArray();
        var unpacked = Path.Combine(dir, "newer.tmp");
        if (Directory.Exists(unpacked)) Directory.Delete(unpacked, recursive: true);
        Assert.That(CliRun.Run("dpkg-deb", new[] { "-R", debs[0], unpacked }, timeout: TimeSpan.FromSeconds(120)).ExitCode, Is.EqualTo(0));
        var control = Path.Combine(unpacked, "DEBIAN", "control");
        File.WriteAllText(control, Regex.Replace(File.ReadAllText(control), @"^Version: (.*)$", "Version: $1+sysdtest1", RegexOptions.Multiline));
        Directory.CreateDirectory(newer);
        var deb = Path.Combine(newer, "erlang-base-newer.deb");
        var b = CliRun.Run("dpkg-deb", new[] { "-Zgzip", "-z1", "-b", unpacked, deb }, timeout: TimeSpan.FromSeconds(180));
        Assert.That(b.ExitCode, Is.EqualTo(0), b.ToString());
        Directory.Delete(unpacked, recursive: true);
        return debs.Append(deb).ToArray();
    }

    private static string DebVersion(string deb) =>
        CliRun.Run("dpkg-deb", new[] { "-f", deb, "Version" }).StdoutText.Trim();

    [Test, Order(8)]
    public void ErlangBaseInstallUpgradeReinstallAndRemoveKeepEveryRegistration()
    {
        string installed = M.Ok("dpkg-query -W -f '${Version}' erlang-base");
        var debs = ErlangBaseDebs();
        string same = debs.SingleOrDefault(d => DebVersion(d) == installed)
            ?? throw new InvalidOperationException($"erlang-base {installed} (the machine's) is not among {string.Join(", ", debs)}");
        string? other = debs.FirstOrDefault(d => d != same);
        File.Copy(same, M.HostPath("/root/erlang-base-same.deb"), overwrite: true);
        if (other != null) File.Copy(other, M.HostPath("/root/erlang-base-other.deb"), overwrite: true);

        // What the prerm sees: pgrep's first match is fastepmd, and OTP's client is refused the kill.
        string pid = M.Ok("systemctl show -P MainPID fastepmd.service");
        Assert.That(M.Ok("pgrep epmd | head -1"), Is.EqualTo(pid), "erlang-base's prerm picks fastepmd");
        var kill = M.Sh("epmd -kill");
        Assert.That((kill.ExitCode, kill.StdoutText.Trim()), Is.EqualTo((1, "Killing not allowed - living nodes in database.")),
            "OTP's `epmd -kill` while nodes are registered: " + kill);
        Assert.That(M.Ok("systemctl show -P MainPID fastepmd.service"), Is.EqualTo(pid), "a refused kill changes nothing");

        try
        {
            NothingNoticed($"erlang-base {installed} reinstalled", "dpkg -i /root/erlang-base-same.deb >/dev/null", Restarted(pid));
            if (other != null)
            {
                string from = M.Ok("systemctl show -P MainPID fastepmd.service");
                NothingNoticed($"erlang-base {installed} -> {DebVersion(other)}", "dpkg -i /root/erlang-base-other.deb >/dev/null", Restarted(from));
                from = M.Ok("systemctl show -P MainPID fastepmd.service");
                NothingNoticed($"erlang-base {DebVersion(other)} -> {installed}", "dpkg -i /root/erlang-base-same.deb >/dev/null", Restarted(from));
            }
            string before = M.Ok("systemctl show -P MainPID fastepmd.service");
            NothingNoticed("erlang-base removed", "dpkg -r erlang-base >/dev/null", Restarted(before));
            Assert.That(M.Ok("dpkg-query -W -f '${Status}' erlang-base"), Is.EqualTo("deinstall ok config-files"));
            // A new install runs no prerm: nothing is killed, the same process serves on.
            NothingNoticed("erlang-base installed", "dpkg -i /root/erlang-base-same.deb >/dev/null", ServiceActive, newProcess: false);
        }
        finally
        {
            // The later steps need the machine's own erlang-base (epmd, erl), whatever failed above.
            if (M.Sh("dpkg-query -W -f '${Status} ${Version}' erlang-base").StdoutText.Trim() != "install ok installed " + installed)
                M.Sh("dpkg -i /root/erlang-base-same.deb", TimeSpan.FromSeconds(120));
        }

        Assert.That(M.Ok("dpkg-query -W -f '${Status} ${Version}' erlang-base"), Is.EqualTo("install ok installed " + installed));
        foreach (var unit in new[] { "epmd.socket", "epmd.service" })
        {
            Assert.That(M.Sh($"systemctl is-enabled {unit}").StdoutText.Trim(), Is.EqualTo("masked"), unit + " stays masked");
            Assert.That(M.Sh($"systemctl is-active {unit}").StdoutText.Trim(), Is.EqualTo("inactive"), unit);
        }
        Assert.That(M.Ok("systemctl show -P Result fastepmd.service"), Is.EqualTo("success"));
        Assert.That(M.Ok("journalctl -u fastepmd.service -o cat --no-pager | grep -c 'registrations adopted' || true"), Is.Not.EqualTo("0"));
    }

    /// <summary>The service runs again, in a process other than `oldPid` (the stray SIGTERM's restart).</summary>
    private Func<bool> Restarted(string oldPid) => () =>
        ServiceActive() && M.Ok("systemctl show -P MainPID fastepmd.service") is var pid && pid != oldPid && pid != "0";

    [Test, Order(11)]
    public void StopStillClosesEveryNodesConnectionAndEmptiesTheStore()
    {
        // A stop job ends the process with the same status 75: systemd must take it as a clean stop,
        // not restart, and empty the store, so that each node sees its connection close.
        const int count = 20;
        Assert.That(ServiceActive(), Is.True);
        // The earlier nodes' deregistrations may still be on their way out of the store: wait for a steady count.
        int Stored() => int.Parse(M.Ok("systemctl show -P NFileDescriptorStore fastepmd.service"), CultureInfo.InvariantCulture);
        int storedBefore = Stored();
        for (var settle = Stopwatch.StartNew(); settle.Elapsed < TimeSpan.FromSeconds(10); )
        {
            Thread.Sleep(500);
            int now = Stored();
            if (now == storedBefore) break;
            storedBefore = now;
        }
        var holder = InMachineNet("python3", new[] { Helper, "hold", count.ToString(CultureInfo.InvariantCulture), "60" }, Binaries.RepoRoot);
        _hostNodes.Add(holder);   // ended by PID at tear-down
        ReadLine(holder, TimeSpan.FromSeconds(30), "the raw holder");
        var clock = Stopwatch.StartNew();
        int stored = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(10)
            && (stored = Stored()) < storedBefore + count)
            Thread.Sleep(50);
        Assert.That(stored, Is.EqualTo(storedBefore + count), "each registration's socket is in the store");
        string restarts = M.Ok("systemctl show -P NRestarts fastepmd.service");

        clock.Restart();
        var stop = M.Sh("systemctl stop fastepmd.service");
        long stopMs = clock.ElapsedMilliseconds;
        Assert.That(stop.ExitCode, Is.EqualTo(0), stop.ToString());
        var shown = M.Ok("systemctl show -p ActiveState -p Result -p ExecMainStatus -p NFileDescriptorStore -p NRestarts fastepmd.service");
        Assert.That(shown, Does.Contain("ActiveState=inactive").And.Contain("Result=success").And.Contain("ExecMainStatus=75")
            .And.Contain("NFileDescriptorStore=0").And.Contain("NRestarts=" + restarts), "a clean stop, no restart, the store emptied");

        // Every raw node sees its connection end (EOF) within a moment.
        JsonElement report = default;
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            holder.StandardInput.WriteLine("report");
            holder.StandardInput.Flush();
            report = JsonDocument.Parse(ReadLine(holder, TimeSpan.FromSeconds(10), "the raw holder")).RootElement;
            if (report.GetProperty("ended").GetArrayLength() == count) break;
            Thread.Sleep(100);
        }
        Figure($"systemctl stop: {count} raw nodes saw their connection close {clock.ElapsedMilliseconds} ms after the stop began "
            + $"(the stop took {stopMs} ms); {shown.Replace('\n', ' ')}");
        Assert.That(report.GetProperty("ended").GetArrayLength(), Is.EqualTo(count), "every node sees the close");
        holder.StandardInput.WriteLine("quit");

        // The socket unit still holds the port: the next query starts an empty daemon.
        Assert.That(M.Sh("systemctl is-active fastepmd.socket").StdoutText.Trim(), Is.EqualTo("active"));
        Assert.That(Regex.IsMatch(M.Ok("fastepmd -names"), @"name raw\d+"), Is.False, "no registration outlives a stop");
    }
}

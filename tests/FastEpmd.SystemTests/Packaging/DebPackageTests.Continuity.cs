// Restarts that no node notices, in the same booted machine: 100 registrations (OTP nodes, a libei
// C node, a Jinterface node, raw ALIVE2 connections) ride through `systemctl restart`, a SIGKILL
// with Restart=on-failure, and the package installed over itself and over a newer version, while
// PORT_PLEASE2 and NAMES run throughout. Host binaries run in the machine's network namespace
// (nsenter -n), so nothing extra is installed in it. Every wait is bounded; what the test starts
// on the host is ended by PID.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Packaging;

public partial class DebPackageTests
{
    private const int RawNodes = 94;
    private const int AllNodes = 100;   // x, a, b, c (OTP), cnode, jnode, 94 raw
    private static readonly string[] s_otpNodes = { "a", "b", "c" };

    private readonly List<Process> _hostNodes = new();
    private Process? _holder;
    private Dictionary<string, uint> _rawCreations = new();
    private string _nodesDir = "";

    private static string NodesSource => Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Packaging", "nodes");
    private static string Helper => Path.Combine(NodesSource, "restart_load.py");

    [OneTimeTearDown]
    public void EndHostNodes()
    {
        foreach (var p in _hostNodes.Append(_holder).OfType<Process>())
        {
            try
            {
                if (!p.HasExited) Native.Kill(p.Id, Native.SIGKILL);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        _hostNodes.Clear();
        _holder = null;
    }

    /// <summary>A host program in the machine's network namespace (nsenter execs it: the PID is the program's).</summary>
    private Process InMachineNet(string program, IEnumerable<string> args, string? workDir = null)
    {
        var psi = new ProcessStartInfo("nsenter")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? _nodesDir,
        };
        foreach (var a in new[] { "-t", M.Leader.ToString(CultureInfo.InvariantCulture), "-n", program }.Concat(args)) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi);
        return Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + program);
    }

    private JsonElement HelperOnce(params string[] args)
    {
        using var p = InMachineNet("python3", new[] { Helper }.Concat(args));
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(60_000), Is.True, "helper " + args[0] + " did not finish");
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), args[0] + ": " + stderr.Result);
        return JsonDocument.Parse(stdout.Result).RootElement;
    }

    private static string ReadLine(Process p, TimeSpan timeout, string what)
    {
        var line = p.StandardOutput.ReadLineAsync();
        Assert.That(line.Wait(timeout), Is.True, what + " said nothing: " + (p.HasExited ? p.StandardError.ReadToEnd() : "still running"));
        return line.Result ?? throw new AssertionException(what + " ended: " + p.StandardError.ReadToEnd());
    }

    private JsonElement HolderSays(string command)
    {
        _holder!.StandardInput.WriteLine(command);
        _holder.StandardInput.Flush();
        return JsonDocument.Parse(ReadLine(_holder, TimeSpan.FromSeconds(10), "the raw holder")).RootElement;
    }

    /// <summary>The nodes' ALIVE connections as the daemon's side sees them: each peer port on :4369.</summary>
    private SortedSet<string> AliveConnections() =>
        new(M.Ok("ss -Htn state established '( sport = :4369 )'").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Regex.Split(l.Trim(), @"\s+")[^1]));

    private static string WithoutFds(string dumpHex) =>
        Regex.Replace(Encoding.ASCII.GetString(Convert.FromHexString(dumpHex)), @"fd = \d+", "fd = N");

    [Test, Order(6)]
    public void HundredNodesRegisterOtpLibeiJinterfaceAndRaw()
    {
        _nodesDir = Path.Combine(Binaries.RepoRoot, "out", "restart-nodes-" + _release.Codename);
        Directory.CreateDirectory(_nodesDir);
        var ei = Directory.GetDirectories("/usr/lib/erlang/lib", "erl_interface-*").Single();
        var cc = CliRun.Run("cc", new[] { "-O2", "-Wall", "-I", ei + "/include", Path.Combine(NodesSource, "cnode.c"),
            "-L", ei + "/lib", "-lei", "-lpthread", "-o", Path.Combine(_nodesDir, "cnode") }, timeout: TimeSpan.FromSeconds(60));
        Assert.That(cc.ExitCode, Is.EqualTo(0), cc.ToString());
        var jar = Directory.GetFiles("/usr/share/java", "OtpErlang*.jar").OrderBy(f => f.Length).First();

        foreach (var name in s_otpNodes)
            M.Ok($"systemd-run --unit=erl-{name} --setenv=HOME=/root /usr/bin/erl -sname {name} -setcookie c -noshell");
        // The nodes live at most 900 s: through these restarts and ErlangBaseMaintainerScripts' five
        // dpkg runs, which take several minutes on a busy machine.
        var cnode = InMachineNet(Path.Combine(_nodesDir, "cnode"), new[] { "cnode", "7777", "900" });
        _hostNodes.Add(cnode);
        var jnode = InMachineNet("java", new[] { "-cp", jar, Path.Combine(NodesSource, "JNode.java"), "jnode", "900" });
        _hostNodes.Add(jnode);
        _holder = InMachineNet("python3", new[] { Helper, "hold", RawNodes.ToString(CultureInfo.InvariantCulture), "900" });
        var creations = JsonDocument.Parse(ReadLine(_holder, TimeSpan.FromSeconds(30), "the raw holder")).RootElement.GetProperty("creations");
        _rawCreations = creations.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetUInt32());
        Assert.That(ReadLine(cnode, TimeSpan.FromSeconds(20), "the C node"), Does.StartWith("published"));
        Assert.That(ReadLine(jnode, TimeSpan.FromSeconds(60), "the Jinterface node"), Does.StartWith("published jnode@"));

        var clock = Stopwatch.StartNew();
        string names = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            names = M.Sh("fastepmd -names").StdoutText;
            if (Regex.Matches(names, "^name ", RegexOptions.Multiline).Count == AllNodes) break;
            Thread.Sleep(200);
        }
        foreach (var node in new[] { "x", "a", "b", "c", "cnode", "jnode", "raw000", "raw093" })
            Assert.That(names, Does.Match($"name {node} at port \\d+"), node);
        Assert.That(Regex.Matches(names, "^name ", RegexOptions.Multiline), Has.Count.EqualTo(AllNodes), names);
        File.WriteAllLines(Path.Combine(_nodesDir, "names"), Regex.Matches(names, @"^name (\S+) at", RegexOptions.Multiline).Select(m => m.Groups[1].Value));
        Figure($"restart set-up: {AllNodes} nodes registered in {clock.ElapsedMilliseconds} ms after start-up "
            + $"(OTP x a b c, libei cnode, Jinterface jnode, {RawNodes} raw ALIVE2); store holds "
            + M.Ok("systemctl show -P NFileDescriptorStore fastepmd.service") + " descriptors");
    }

    /// <summary>
    /// Runs the lookup loop around one disruption and checks that nothing changed for any node:
    /// every lookup answered, NAMES and DUMP (fd numbers aside) identical, the same 100 connections.
    /// </summary>
    private void NothingNoticed(string what, string disruption, Func<bool> serviceBack, bool newProcess = true)
    {
        Assert.That(_holder, Is.Not.Null, "the nodes were not set up (Order 6 failed)");
        var before = HelperOnce("snapshot");
        var connections = AliveConnections();
        Assert.That(connections, Has.Count.EqualTo(AllNodes), "one ALIVE connection per node before " + what);
        string oldPid = M.Ok("systemctl show -P MainPID fastepmd.service");

        var stop = Path.Combine(_nodesDir, "stop");
        File.Delete(stop);
        using var load = InMachineNet("python3", new[] { Helper, "load", "60", stop, Path.Combine(_nodesDir, "names"), AllNodes.ToString(CultureInfo.InvariantCulture) });
        // A fixed pause raced the helper's start on a busy machine (0 lookups made): wait for its first lookup.
        var running = load.StandardOutput.ReadLineAsync();
        Assert.That(running.Wait(TimeSpan.FromSeconds(20)) && running.Result == "running", Is.True, "the lookup loop did not start");
        Thread.Sleep(300);
        var clock = Stopwatch.StartNew();
        var action = M.Sh(disruption, TimeSpan.FromSeconds(120));
        long actionMs = clock.ElapsedMilliseconds;
        Assert.That(action.ExitCode, Is.EqualTo(0), what + ": " + action);
        while (!serviceBack() && clock.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(50);
        long backMs = clock.ElapsedMilliseconds;
        Thread.Sleep(300);
        File.WriteAllText(stop, "");
        var summaryLine = load.StandardOutput.ReadLineAsync();
        Assert.That(summaryLine.Wait(TimeSpan.FromSeconds(30)), Is.True, "the lookup loop did not stop");
        var summary = JsonDocument.Parse(summaryLine.Result!).RootElement;
        load.WaitForExit(5000);

        string newPid = M.Ok("systemctl show -P MainPID fastepmd.service");
        var after = HelperOnce("snapshot");
        int requests = summary.GetProperty("requests").GetInt32(), answered = summary.GetProperty("answered").GetInt32();
        Figure($"{what}: {answered} of {requests} lookups (PORT_PLEASE2 + NAMES of {AllNodes}) answered, longest "
            + $"{summary.GetProperty("max_ms").GetDouble()} ms (the gap), median {summary.GetProperty("median_ms").GetDouble()} ms; "
            + $"`{disruption}` took {actionMs} ms, service back after {backMs} ms; "
            + M.Ok("journalctl -u fastepmd.service -o cat --no-pager -n 30 | grep 'registrations adopted' | tail -1"));
        Assert.That(newPid != oldPid, Is.EqualTo(newProcess), what + (newProcess ? " must start a new process" : " must keep the process"));
        Assert.That(answered, Is.EqualTo(requests), string.Join("; ", summary.GetProperty("failures").EnumerateArray()));
        Assert.That(requests, Is.GreaterThan(10));
        Assert.That(after.GetProperty("names").GetString(), Is.EqualTo(before.GetProperty("names").GetString()), "NAMES byte for byte");
        Assert.That(WithoutFds(after.GetProperty("dump").GetString()!), Is.EqualTo(WithoutFds(before.GetProperty("dump").GetString()!)), "DUMP apart from fd numbers");
        Assert.That(AliveConnections(), Is.EqualTo(connections), "the same ALIVE connections, none closed or new");
        Assert.That(HolderSays("report").GetProperty("ended").GetArrayLength(), Is.Zero, "no raw node saw its connection end");
        foreach (var node in _hostNodes) Assert.That(node.HasExited, Is.False, "the C and Java nodes still hold their registration");
        foreach (var name in s_otpNodes)
            Assert.That(M.Sh($"systemctl is-active erl-{name}").StdoutText.Trim(), Is.EqualTo("active"), "erl " + name);
    }

    private bool ServiceActive() => M.Sh("systemctl is-active fastepmd.service").StdoutText.Trim() == "active";

    [Test, Order(7)]
    public void RestartKillAndUpgradeKeepEveryRegistration()
    {
        NothingNoticed("systemctl restart", "systemctl restart fastepmd.service", ServiceActive);
        // kill(1) on the main PID, a crash as it happens: `systemctl kill` also signals the unit's
        // other processes and failed once with "Failed to send signal SIGKILL to auxiliary
        // processes: Input/output error" (Debian 12's systemd 252, two machines running).
        NothingNoticed("SIGKILL + Restart=on-failure", "kill -KILL $(systemctl show -P MainPID fastepmd.service)",
            () => ServiceActive() && M.Ok("systemctl show -P NRestarts fastepmd.service") != "0");
        NothingNoticed("package installed over itself", "dpkg -i /root/fastepmd.deb >/dev/null", ServiceActive);

        // A newer build of the package: the same files under a bumped version, so dpkg runs the upgrade path.
        var unpacked = Path.Combine(_nodesDir, "deb-newer");
        if (Directory.Exists(unpacked)) Directory.Delete(unpacked, recursive: true);
        Assert.That(CliRun.Run("dpkg-deb", new[] { "-R", DebFile(), unpacked }).ExitCode, Is.EqualTo(0));
        var control = Path.Combine(unpacked, "DEBIAN", "control");
        File.WriteAllText(control, Regex.Replace(File.ReadAllText(control), @"^Version: (.*)$", "Version: $1+restarttest1", RegexOptions.Multiline));
        var built = CliRun.Run("dpkg-deb", new[] { "-b", unpacked, M.HostPath("/root/fastepmd-newer.deb") }, timeout: TimeSpan.FromSeconds(60));
        Assert.That(built.ExitCode, Is.EqualTo(0), built.ToString());
        NothingNoticed("package upgraded to a newer version", "dpkg -i /root/fastepmd-newer.deb >/dev/null", ServiceActive);
        Assert.That(M.Ok("dpkg-query -W -f '${Version}' fastepmd"), Does.EndWith("+restarttest1"));
    }

    [Test, Order(9)]
    public void RemembersCreationsAcrossTheRestarts()
    {
        // The daemon kept raw000's creation through four new processes: its next registration gets the next one.
        Assert.That(HolderSays("close raw000").GetProperty("closed").GetString(), Is.EqualTo("raw000"));
        var clock = Stopwatch.StartNew();
        while (Regex.IsMatch(M.Sh("fastepmd -names").StdoutText, "name raw000 at") && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(50);
        uint again = HelperOnce("alive", "raw000", "20000").GetProperty("creation").GetUInt32();
        Assert.That(again, Is.EqualTo(_rawCreations["raw000"] + 1), "the creation after the stored one");
        _holder!.StandardInput.WriteLine("quit");
        // SIGKILL, not init:stop: the nodes' OTP files went through erlang-base's removal and
        // reinstall (Order 8), and a stop that loads a module from them once took over 30 s.
        string units = string.Join(' ', s_otpNodes.Select(n => "erl-" + n));
        M.Sh($"systemctl kill --signal=SIGKILL {units}; systemctl stop {units}; systemctl reset-failed {units} 2>/dev/null; true");
        EndHostNodes();
    }
}

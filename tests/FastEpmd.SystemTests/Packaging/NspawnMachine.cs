// A throw-away Debian machine with a real systemd, of either release (DebianRelease): the
// debootstrap root that ./build.sh test caches under out/nspawn/CODENAME, seen through an overlay
// (the cache stays clean), booted with systemd-nspawn on a private network, and entered with
// nsenter. Port 4369 is only ever used in it. Several machines may run at once, of one release or
// both: each has its own overlay under out/nspawn/run-PID/ and its own name (also its hostname).
using System.Diagnostics;
using System.Text;
using FastEpmd.SystemTests.Reference;

namespace FastEpmd.SystemTests.Packaging;

internal sealed class NspawnMachine : IDisposable
{
    private readonly string _runDir;
    private readonly string _merged;
    private readonly Process _nspawn;
    private readonly StringBuilder _console;
    private bool _mounted;

    public int Leader { get; private set; }
    public string Console { get { lock (_console) return _console.ToString(); } }
    public DebianRelease Release { get; }

    private NspawnMachine(DebianRelease release, string runDir, string merged, Process nspawn, StringBuilder console)
    {
        Release = release;
        _runDir = runDir;
        _merged = merged;
        _nspawn = nspawn;
        _console = console;
        _mounted = true;
    }

    /// <summary>The overlay's root, to copy files into the machine.</summary>
    public string HostPath(string pathInMachine) => Path.Combine(_merged, pathInMachine.TrimStart('/'));

    /// <summary>
    /// Boots a machine of the release, named name (unique among the machines of one test run);
    /// null with the reason when nspawn cannot boot it here.
    /// </summary>
    public static NspawnMachine? Boot(string name, DebianRelease release, out string reason)
    {
        reason = "";
        string root = release.Root;
        if (!Directory.Exists(Path.Combine(root, "usr", "lib", "systemd")))
            throw new InvalidOperationException($"no {release} debootstrap root at {root}: ./build.sh test builds it");
        // nspawn names the machine (and its hostname) after the directory: run-PID/NAME, beside
        // its overlay's run-PID/NAME.upper and NAME.work.
        var runDir = Path.Combine(Binaries.RepoRoot, "out", "nspawn", "run-" + Environment.ProcessId);
        var merged = Path.Combine(runDir, name);
        foreach (var d in new[] { merged + ".upper", merged + ".work", merged })
        {
            if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
            Directory.CreateDirectory(d);
        }
        var mount = CliRun.Run("mount", new[] { "-t", "overlay", "overlay", "-o",
            $"lowerdir={root},upperdir={merged}.upper,workdir={merged}.work", merged });
        if (mount.ExitCode != 0) throw new InvalidOperationException("overlay mount failed: " + mount);

        var psi = new ProcessStartInfo("systemd-nspawn")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-q", "-b", "-D", merged, "--private-network", "--register=no", "--keep-unit", "--console=passive" })
            psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi);
        var nspawn = new Process { StartInfo = psi };
        var console = new StringBuilder();
        nspawn.OutputDataReceived += (_, e) => { if (e.Data != null) lock (console) console.AppendLine(e.Data); };
        nspawn.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (console) console.AppendLine(e.Data); };
        nspawn.Start();
        nspawn.BeginOutputReadLine();
        nspawn.BeginErrorReadLine();

        var machine = new NspawnMachine(release, runDir, merged, nspawn, console);
        try
        {
            reason = machine.WaitBooted();
        }
        catch
        {
            machine.Dispose();
            throw;
        }
        if (reason.Length == 0) return machine;
        machine.Dispose();
        return null;
    }

    private string WaitBooted()
    {
        // The container's init is nspawn's child once the intermediate process has exited.
        var deadline = Stopwatch.StartNew();
        while (Leader == 0 && !_nspawn.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            var children = new List<int>();
            foreach (var task in Directory.GetDirectories($"/proc/{_nspawn.Id}/task"))
            {
                try { children.AddRange(File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)); }
                catch (IOException) { }
            }
            foreach (int child in children)
            {
                try
                {
                    if (File.ReadAllText($"/proc/{child}/comm").Trim() == "systemd") Leader = child;
                }
                catch (IOException) { }
            }
            if (Leader == 0) Thread.Sleep(100);
        }
        if (Leader == 0) return $"systemd-nspawn did not start systemd within 15 s (exited={_nspawn.HasExited}): {Console}";
        // systemctl needs the manager's bus, which appears a moment after init starts.
        var running = Sh("i=0; while [ $i -lt 300 ] && ! [ -S /run/systemd/private ]; do sleep 0.1; i=$((i+1)); done; "
            + "timeout 60 systemctl is-system-running --wait", TimeSpan.FromSeconds(100));
        return running.StdoutText.Trim() is "running" or "degraded" ? "" : $"systemd in the machine did not finish booting: {running}";
    }

    /// <summary>Runs a shell command inside the machine, with the machine's own plain environment.</summary>
    public CliOutcome Sh(string command, TimeSpan? timeout = null) =>
        CliRun.Run("nsenter", new[] { "-t", Leader.ToString(), "-a",
            "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
            "/bin/sh", "-c", command }, timeout: timeout ?? TimeSpan.FromSeconds(30));

    /// <summary>The command's stdout, trimmed; the command must exit 0.</summary>
    public string Ok(string command, TimeSpan? timeout = null)
    {
        var r = Sh(command, timeout);
        if (r.ExitCode != 0) throw new AssertionException($"in the machine: `{command}` failed: {r}");
        return r.StdoutText.Trim();
    }

    public void Dispose()
    {
        if (!_nspawn.HasExited)
        {
            // SIGTERM asks nspawn for an orderly poweroff of the machine (about 2 s).
            Native.Kill(_nspawn.Id, Native.SIGTERM);
            if (!_nspawn.WaitForExit(15000))
            {
                Native.Kill(_nspawn.Id, Native.SIGKILL);
                _nspawn.WaitForExit(5000);
            }
        }
        _nspawn.Dispose();
        // Never delete through a live overlay: a failed umount leaves the folders for a look.
        if (_mounted && CliRun.Run("umount", new[] { _merged }).ExitCode == 0) _mounted = false;
        if (_mounted) return;
        foreach (var d in new[] { _merged, _merged + ".upper", _merged + ".work" })
            if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        try { Directory.Delete(_runDir); }
        catch (IOException) { }   // another machine of this run still uses it
    }
}

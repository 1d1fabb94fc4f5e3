// OTP's own conformance suite for epmd (erts/epmd/test/epmd_SUITE.erl), unmodified, from Debian's
// source package of the installed erlang-base, run once per Debian release against the binary
// under test (FASTEPMD_BIN): by Debian 12's Erlang (OTP 25, this host's) and by Debian 13's (OTP
// 27, from its root; Debian 13's suite source is byte-identical to OTP 25's). tests/OtpSuite/fetch.sh
// obtains it, tests/OtpSuite/run.sh runs it under common_test with an ssh proxy host in a namespace
// of its own; this fixture reports each of the suite's cases as one NUnit test, with common_test's
// verdict. The two non-local cases also run against the release's own epmd, as a control.
using System.Diagnostics;
using System.Text;
using FastEpmd.SystemTests.Reference;

namespace FastEpmd.SystemTests.Upstream;

[TestFixture("Debian 12")]
[TestFixture("Debian 13")]
[Category("Conformance")]
// Run alone here, the suite takes 4.5-7 min, mostly its own sleeps. ./build.sh test starts both
// releases' runs beside the other system tests instead (FASTEPMD_OTP_SUITE_RUN names the runs'
// common prefix: PREFIX-CODENAME and PREFIX-CODENAME-control; this fixture then only waits for
// them and reads them). Non-parallel fixtures run one by one in namespace order: "Upstream"
// sorts after the others, so the wait comes last and overlaps everything before it.
[NonParallelizable]
public class OtpEpmdSuiteTests
{
    // The suite takes 4.5-7 minutes; run.sh stops common_test after 600 s, this is the last resort.
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(660);

    /// <summary>The cases that need the ssh proxy host, run against the release's own epmd too.</summary>
    public const string NonLocalCases = "no_nonlocal_register no_nonlocal_kill";

    private static string ScriptDir => Path.Combine(Binaries.RepoRoot, "tests", "OtpSuite");

    private readonly DebianRelease _release;
    private Dictionary<string, CaseResult>? _results;
    private string _runFailure = "";
    private ShResult? _control;
    private string _controlDir = "";

    public OtpEpmdSuiteTests(string release) => _release = DebianRelease.Named(release);

    private sealed record CaseResult(string Outcome, string Seconds, string Reason);

    /// <summary>
    /// The suite's cases, from its all/0 and groups/0, as fetch.sh cached them (./build.sh test runs
    /// fetch.sh before the system tests). Discovery only reads that cache: it downloads nothing.
    /// </summary>
    public static IEnumerable<TestCaseData> Cases()
    {
        string casesFile = Path.Combine(SuiteCache(), "cases");
        if (!File.Exists(casesFile))
        {
            // Nothing may silently not run: a missing suite is one failing case, saying what to run.
            yield return new TestCaseData("(fetch)", $"{casesFile} is missing: run tests/OtpSuite/fetch.sh " +
                "(./build.sh test runs it before the system tests; it fetches epmd_SUITE from Debian's erlang source package)").SetName("epmd_SUITE_fetch");
            yield break;
        }
        foreach (var line in File.ReadAllLines(casesFile).Where(l => l.Length > 0))
        {
            var parts = line.Split(' ');
            string name = parts[1] == "-" ? parts[0] : $"{parts[1]}.{parts[0]}";
            yield return new TestCaseData(parts[0], "").SetName(name);
        }
    }

    /// <summary>fetch.sh's cache: out/otp-suite/VERSION, the installed erlang-base's version with ':' as '_'.</summary>
    private static string SuiteCache()
    {
        var query = Sh("/usr/bin/dpkg-query", TimeSpan.FromSeconds(30), "-W", "-f=${Version}", "erlang-base");
        return Path.Combine(Binaries.RepoRoot, "out", "otp-suite", query.Stdout.Trim().Replace(':', '_'));
    }

    [OneTimeSetUp]
    public void RunSuite()
    {
        if (_release.Missing.Length > 0)
        {
            _runFailure = _release.Missing;
            return;
        }
        // A directory per test host: a host killed by the hang timeout leaves run.sh to finish on
        // its own (bounded by its 600 s), and the next run must not share its files.
        string runs = Path.Combine(Binaries.RepoRoot, "out", "otp-suite");
        foreach (var old in Directory.Exists(runs) ? Directory.GetDirectories(runs, "run-*") : Array.Empty<string>())
        {
            if (Directory.GetLastWriteTimeUtc(old) < DateTime.UtcNow.AddMinutes(-10)) Directory.Delete(old, recursive: true);
        }
        string? background = Environment.GetEnvironmentVariable("FASTEPMD_OTP_SUITE_RUN");
        string prefix = background ?? Path.Combine(runs, $"run-{Environment.ProcessId}");
        string outDir = $"{prefix}-{_release.Codename}";
        _controlDir = $"{outDir}-control";
        var sw = Stopwatch.StartNew();
        ShResult run;
        if (background is null)
        {
            // The control is short (two cases): it runs while the suite does.
            var control = Task.Run(() => RunSh(ControlBinary, _controlDir, NonLocalCases));
            run = RunSh(Binaries.FastEpmd, outDir, "");
            _control = control.GetAwaiter().GetResult();
        }
        else
        {
            run = WaitForBackgroundRun(outDir, s_runLimit);
            _control = WaitForBackgroundRun(_controlDir, s_runLimit);
        }
        string table = run.Stdout.TrimEnd() + (background is null
            ? $"\nepmd_SUITE wall time {sw.Elapsed.TotalSeconds:F0} s (run.sh exit {run.ExitCode})\n"
            : $"\nepmd_SUITE ran beside the other system tests; its fixture waited {sw.Elapsed.TotalSeconds:F0} s for it (run.sh exit {run.ExitCode})\n")
            + $"control, {_release}'s own epmd: " + _control.Stdout.TrimEnd().Replace("\n", "\n  ", StringComparison.Ordinal) + "\n";
        TestContext.Progress.Write(table);
        // The console logger shows no progress output at its default verbosity: ./build.sh test
        // prints this file after the system tests, so every case's result is in its output.
        string results = Path.Combine(Binaries.RepoRoot, "out", "test-results");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, $"epmd_SUITE-{_release.Codename}.txt"), table);
        string tsv = Path.Combine(outDir, "results.tsv");
        string tuple = Path.Combine(outDir, "logs", "run_test.result");
        if (!File.Exists(tsv) || !File.Exists(tuple))
        {
            _runFailure = $"run.sh exited {run.ExitCode} without results:\n{run.Stdout}\n{run.Stderr}";
            return;
        }
        _results = File.ReadAllLines(tsv).Select(l => l.Split('\t'))
            .ToDictionary(f => f[0], f => new CaseResult(f[1], f[2], f.Length > 3 ? f[3] : ""));
        // common_test's own totals must agree with the per-case log read by run.sh.
        int ok = _results.Values.Count(r => r.Outcome == "ok");
        int failed = _results.Values.Count(r => r.Outcome == "failed");
        int skipped = _results.Values.Count(r => r.Outcome == "skipped");
        string expected = $"{{{ok},{failed},{{{skipped},0}}}}.";
        string actual = File.ReadAllText(tuple).Trim();
        if (actual != expected)
            _runFailure = $"ct:run_test returned {actual}, the case log says {expected}:\n{run.Stdout}";
    }

    /// <summary>The release's epmd as run.sh names it: with OTP_SUITE_ROOT, /usr/bin/epmd is the root's.</summary>
    private string ControlBinary => _release == DebianRelease.Debian12 ? Binaries.Otp : "/usr/bin/epmd";

    /// <summary>run.sh with this fixture's release: the release's Erlang runs the suite against binary.</summary>
    private ShResult RunSh(string binary, string outDir, string cases)
    {
        var env = new Dictionary<string, string?>
        {
            ["OTP_SUITE_ROOT"] = _release == DebianRelease.Debian12 ? null : _release.Root,
            ["OTP_SUITE_CASES"] = cases.Length == 0 ? null : cases,
        };
        return Sh(Path.Combine(ScriptDir, "run.sh"), s_runLimit, env, binary, outDir);
    }

    /// <summary>
    /// The control: the two non-local cases against the release's own epmd, through the same ssh
    /// proxy, pass too (OTP refuses ALIVE2 and KILL from the proxy's address) and run.sh's check saw
    /// the tunnel reach the daemon from the proxy's address, so FastEpmd's passes are not a broken tunnel's.
    /// </summary>
    [Test]
    public void NonLocalCases_pass_against_the_releases_own_epmd_through_the_same_proxy()
    {
        if (_control is null) Assert.Fail("the control did not run: " + _runFailure);
        Assert.That(_control!.ExitCode, Is.EqualTo(0), $"{_control.Stdout}\n{_control.Stderr}");
        var results = File.ReadAllLines(Path.Combine(_controlDir, "results.tsv")).Select(l => l.Split('\t')).ToDictionary(f => f[0], f => f[1]);
        foreach (var name in NonLocalCases.Split(' ')) Assert.That(results.GetValueOrDefault(name), Is.EqualTo("ok"), name);
        Assert.That(_control.Stdout, Does.Contain("the daemon's peer: 10.231.0.2"), "the tunnel reached the daemon from the proxy");
    }

    [TestCaseSource(nameof(Cases))]
    public void Case(string name, string fetchFailure)
    {
        if (fetchFailure.Length > 0) Assert.Fail(fetchFailure);
        if (_results is null || _runFailure.Length > 0)
        {
            Assert.Fail("epmd_SUITE did not run to the end: " + _runFailure);
            return;
        }
        if (!_results.TryGetValue(name, out var result))
        {
            Assert.Fail($"{name}: no result in common_test's log: the case did not run");
            return;
        }
        switch (result.Outcome)
        {
            case "ok":
                TestContext.Out.WriteLine($"{name}: ok in {result.Seconds} s");
                return;
            case "skipped":
                // The suite skips only for want of its ssh proxy host, which run.sh provides.
                Assert.Fail($"skipped by epmd_SUITE: {result.Reason}");
                return;
            default:
                Assert.Fail($"{name} failed under common_test: {result.Reason}");
                return;
        }
    }

    private sealed record ShResult(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// The run build.sh started beside the system tests: DIR.exit appears when run.sh has ended,
    /// with DIR.out and DIR.err beside it. One that never ends is a failure, not a wait forever.
    /// </summary>
    private static ShResult WaitForBackgroundRun(string dir, TimeSpan limit)
    {
        var sw = Stopwatch.StartNew();
        string exitFile = dir + ".exit";
        while (!File.Exists(exitFile) && sw.Elapsed < limit) Thread.Sleep(500);
        string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
        if (!File.Exists(exitFile))
            return new ShResult(-1, Read(dir + ".out"), Read(dir + ".err") + $"the background run.sh did not finish within {limit.TotalSeconds:F0} s");
        Thread.Sleep(100);   // the exit code is written after the output is flushed
        return new ShResult(int.TryParse(Read(exitFile).Trim(), out int code) ? code : -1, Read(dir + ".out"), Read(dir + ".err"));
    }

    private static ShResult Sh(string script, TimeSpan limit, params string[] args) => Sh(script, limit, null, args);

    private static ShResult Sh(string script, TimeSpan limit, IDictionary<string, string?>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(script)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi, env);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + script);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit((int)limit.TotalMilliseconds))
        {
            // The script and everything below it were started here.
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10000);
            lock (stderr) stderr.AppendLine($"{Path.GetFileName(script)} did not finish within {limit.TotalSeconds:F0} s and was killed");
            return new ShResult(-1, stdout.ToString(), stderr.ToString());
        }
        process.WaitForExit();
        return new ShResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}

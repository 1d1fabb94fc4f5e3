// OTP's own conformance suite for epmd (erts/epmd/test/epmd_SUITE.erl), unmodified, from Debian's
// source package of the installed erlang-base, run once against the binary under test
// (FASTEPMD_BIN; /usr/bin/epmd runs it against OTP's daemon). tests/OtpSuite/fetch.sh obtains it,
// tests/OtpSuite/run.sh runs it under common_test; this fixture reports each of the suite's cases
// as one NUnit test, with common_test's verdict.
using System.Diagnostics;
using System.Text;

namespace FastEpmd.SystemTests.Upstream;

[TestFixture]
[Category("Conformance")]
// Run alone here, the suite takes ~4.5 min, mostly its own sleeps. ./build.sh test starts it beside
// the other system tests instead (FASTEPMD_OTP_SUITE_RUN names that run's directory; this fixture
// then only waits for it and reads it). Non-parallel fixtures run one by one in namespace order:
// "Upstream" sorts after the others, so the wait comes last and overlaps everything before it.
[NonParallelizable]
public class OtpEpmdSuiteTests
{
    // The suite takes about 4.5 minutes; run.sh stops common_test after 420 s, this is the last resort.
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(480);

    private static string ScriptDir => Path.Combine(Binaries.RepoRoot, "tests", "OtpSuite");

    private Dictionary<string, CaseResult>? _results;
    private string _runFailure = "";

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
        // A directory per test host: a host killed by the hang timeout leaves run.sh to finish on
        // its own (bounded by its 420 s), and the next run must not share its files.
        string runs = Path.Combine(Binaries.RepoRoot, "out", "otp-suite");
        foreach (var old in Directory.Exists(runs) ? Directory.GetDirectories(runs, "run-*") : Array.Empty<string>())
        {
            if (Directory.GetLastWriteTimeUtc(old) < DateTime.UtcNow.AddMinutes(-10)) Directory.Delete(old, recursive: true);
        }
        string? background = Environment.GetEnvironmentVariable("FASTEPMD_OTP_SUITE_RUN");
        string outDir = background ?? Path.Combine(runs, $"run-{Environment.ProcessId}");
        var sw = Stopwatch.StartNew();
        var run = background is null
            ? Sh(Path.Combine(ScriptDir, "run.sh"), s_runLimit, Binaries.FastEpmd, outDir)
            : WaitForBackgroundRun(background, s_runLimit);
        string table = run.Stdout.TrimEnd() + (background is null
            ? $"\nepmd_SUITE wall time {sw.Elapsed.TotalSeconds:F0} s (run.sh exit {run.ExitCode})\n"
            : $"\nepmd_SUITE ran beside the other system tests; its fixture waited {sw.Elapsed.TotalSeconds:F0} s for it (run.sh exit {run.ExitCode})\n");
        TestContext.Progress.Write(table);
        // The console logger shows no progress output at its default verbosity: ./build.sh test
        // prints this file after the system tests, so every case's result is in its output.
        string results = Path.Combine(Binaries.RepoRoot, "out", "test-results");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, "epmd_SUITE.txt"), table);
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
                // Only the suite itself skips (here: the two cases that need an ssh proxy host).
                Assert.Ignore($"skipped by epmd_SUITE: {result.Reason}");
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

    private static ShResult Sh(string script, TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo(script)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi);
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

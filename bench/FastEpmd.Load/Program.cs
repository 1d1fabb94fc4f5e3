// FastEpmd.Load: FastEpmd (NativeAOT binary) against OTP's epmd and the kernel floor, side by
// side, rotated each round, the daemon pinned to one core and the harness to the other.
//   dotnet run --project bench/FastEpmd.Load -c Release -- [--quick] [--only a,b] [--fastepmd PATH]
//       [--otp PATH|none] [--floor PATH|none] [--out DIR] [--name PREFIX] [--rate N] [--rounds N]
//       [--seconds S] [--cost-rounds N] [--cost-seconds S] [--burst-rounds N] [--burst-sizes a,b]
//       [--fastepmd-args "-defer_accept 1"] [--variants "-accept_batch 1|-accept_batch 16"] [--no-pin]
//   ... -- --compare A.json B.json: the verdicts of two full runs side by side (exit 0: they agree)
using System.Globalization;
using FastEpmd.Load.Harness;
using FastEpmd.Load.Report;
using FastEpmd.Load.Scenarios;

namespace FastEpmd.Load;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--hold-child") return HeldNodes.ChildMain(args);
        if (args.Length > 0 && args[0] == "--burst-child") return BurstChild.ChildMain(args);
        if (args.Length > 0 && args[0] == "--drive") return Drive(args);
        if (args.Length == 3 && args[0] == "--compare") return Compare.Run(args[1], args[2]);
        Children.InstallHandlers();
        try
        {
            return Run(args);
        }
        finally
        {
            Children.KillAll();
        }
    }

    private static int Run(string[] args)
    {
        string root = FindRepoRoot();
        bool quick = args.Contains("--quick");
        string? Arg(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        string fastepmd = Arg("--fastepmd") ?? Path.Combine(root, "out", "fastepmd");
        string? otp = Arg("--otp") ?? "/usr/bin/epmd";
        if (otp == "none" || !File.Exists(otp)) otp = null;
        string? floor = Arg("--floor") ?? Path.Combine(root, "out", "epmd_floor");
        if (floor == "none" || !File.Exists(floor)) floor = null;
        if (!File.Exists(fastepmd))
        {
            Console.Error.WriteLine($"load: {fastepmd} not found; run ./build.sh publish first");
            return 2;
        }
        static string[] Flags(string? text) => (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // --variants "A|B|C": one FastEpmd arm per set of flags (an A/B of a daemon option), the first judged.
        var variants = Arg("--variants") is string v
            ? v.Split('|').Select(x => (IReadOnlyList<string>)Flags(x).Concat(Flags(Arg("--fastepmd-args"))).ToArray()).ToList()
            : new List<IReadOnlyList<string>> { Flags(Arg("--fastepmd-args")) };
        double Seconds(string name, double fallback) => double.Parse(Arg(name) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var settings = new Settings
        {
            Quick = quick,
            Root = root,
            LoadAtStart = string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)),
            FastEpmdPath = fastepmd,
            OtpPath = otp,
            FloorPath = floor,
            FastEpmdVariants = variants,
            Rounds = int.Parse(Arg("--rounds") ?? (quick ? "1" : "5")),
            PacedRound = TimeSpan.FromSeconds(Seconds("--seconds", quick ? 0.5 : 6)),
            CostRounds = int.Parse(Arg("--cost-rounds") ?? (quick ? "1" : "3")),
            CostRound = TimeSpan.FromSeconds(Seconds("--cost-seconds", quick ? 0.5 : 1.5)),
            ClosedRound = TimeSpan.FromSeconds(quick ? 0.3 : 0.8),
            Warmup = TimeSpan.FromSeconds(quick ? 0.1 : 0.3),
            StartupSamples = quick ? 3 : 7,
            QueryRate = double.Parse(Arg("--rate") ?? "8000", CultureInfo.InvariantCulture),
            BurstRounds = int.Parse(Arg("--burst-rounds") ?? (quick ? "1" : "5")),
            BurstSizes = (Arg("--burst-sizes") ?? (quick ? "1000,5000" : "1000,5000,15000")).Split(',').Select(int.Parse).ToArray(),
        };
        Affinity.Init(!args.Contains("--no-pin"));
        // miss is not in the default run (no target needs it): --only miss runs it.
        var defaults = new List<Scenario>
        {
            new Query(16), new Query(64), new Names(10), new Names(1000), new Churn(),
            new Hold(1000), new Hold(10000), new Hold(19000), new MetricsCost(),
        };
        var only = Arg("--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var scenarios = only is null ? defaults : defaults.Append(new Miss()).Where(s => only.Contains(s.Name)).ToList();
        bool startup = only is null || only.Contains("startup");
        bool burst = only is null || only.Contains("burst");

        Console.Error.WriteLine($"load: FastEpmd {settings.Relative(fastepmd)}; OTP {(otp ?? "not found: FastEpmd alone")}; floor {(floor is null ? "not built" : settings.Relative(floor))}; {(quick ? "quick" : "full")} run, " +
            $"tail cells {settings.Rounds} x {settings.PacedRound.TotalSeconds:0.0} s, cost cells {settings.CostRounds} x {settings.CostRound.TotalSeconds:0.0} s per daemon; " +
            $"{Environment.ProcessorCount} cores; " +
            (Affinity.Pinned ? $"daemons on cpu {Affinity.DaemonCpu}, harness on cpu {Affinity.HarnessCpus}" : "not pinned") +
            $"; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = new List<ScenarioResult>();
        bool burstFailed = false;
        using var engine = new LoadEngine();
        var startupResults = startup ? Startup.Measure(settings) : new List<StartupResult>();
        foreach (var scenario in scenarios)
        {
            try
            {
                results.Add(Runner.Run(scenario, settings, engine));
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"   {scenario.Name} FAILED: {e.Message}");
            }
        }
        var burstResults = new List<BurstArm>();
        if (burst)
        {
            try
            {
                burstResults = Burst.Measure(settings);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"   burst FAILED: {e.Message}");
                burstFailed = true;
            }
        }
        var report = new RunReport(settings, results, startupResults, burstResults, clock.Elapsed.TotalSeconds);
        string outDir = Arg("--out") ?? Path.Combine(root, "bench", "results");
        Directory.CreateDirectory(outDir);
        string prefix = Arg("--name") ?? "latest";
        File.WriteAllText(Path.Combine(outDir, prefix + ".md"), Markdown.Write(report));
        File.WriteAllText(Path.Combine(outDir, prefix + ".json"), Json.Write(report));
        try
        {
            Chart.Write(report, Path.Combine(outDir, prefix + ".png"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine("load: PNG chart failed (" + e.Message + "); writing SVG");
        }
        Chart.WriteSvg(report, Path.Combine(outDir, prefix + ".svg"));
        Console.Out.Write(Markdown.Write(report));
        Console.Error.WriteLine($"load: wrote {outDir}/{prefix}.md, .json, .png, .svg in {clock.Elapsed.TotalSeconds:0} s");
        // Targets print PASS/FAIL; the exit code reports only a harness failure (a scenario that could not run).
        return results.Count == scenarios.Count && !burstFailed ? 0 : 1;
    }

    /// <summary>
    /// Load on a daemon someone else started (for strace/perf): --drive query|miss|names|churn PORT PID
    /// RATE SECONDS [IN_FLIGHT]. RATE 0 is a closed loop. --drive burst PORT PID N COUNT: bursts.
    /// The harness pins itself to the cores after the first: start the daemon with taskset -c 0.
    /// </summary>
    private static int Drive(string[] args)
    {
        string what = args[1];
        int port = int.Parse(args[2]);
        int pid = int.Parse(args[3]);
        double rate = double.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
        double seconds = double.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture);
        int inFlight = args.Length > 6 ? int.Parse(args[6]) : 16;
        Affinity.Init(!args.Contains("--no-pin"));
        if (what == "burst") return DriveBurst(port, pid, (int)rate, (int)seconds);
        using var held = Registrations.Register(port, new[] { (Query.NodeName, Query.NodePort) });
        Workload workload = what switch
        {
            "query" => new RotatingWorkload(Requests.PortPlease(Query.NodeName), Expected.ThenEof(Requests.PortFound(Query.NodeName, Query.NodePort))),
            "miss" => new RotatingWorkload(Requests.PortPlease("nosuchnode"), Expected.ThenEof(Requests.PortNotFound)),
            "names" => new RotatingWorkload(Requests.Names, Expected.ThenEof(Requests.NamesReply(port, new[] { (Query.NodeName, Query.NodePort) }))),
            "churn" => new ChurnWorkload("drive" + Environment.ProcessId + "_"),
            _ => throw new ArgumentException("unknown workload " + what),
        };
        using var engine = new LoadEngine();
        var r = engine.Run(port, pid, workload, new LoadPlan(rate, inFlight, TimeSpan.FromSeconds(seconds)));
        Console.WriteLine($"{what}: {r.Ok} ok in {r.Seconds:0.00} s = {r.OkPerSecond:0} ops/s; errors {r.Errors}, bad {r.BadBytes}; " +
            $"server {r.ServerCpu.Seconds * 1e6 / Math.Max(1, r.Ok + r.BadBytes):0.0} us/req (sched {r.ServerCpu.SchedNs / 1e3 / Math.Max(1, r.Ok + r.BadBytes):0.0}); " +
            $"p50 {Stats.Percentile(r.LatencyNs, 0.5) / 1e3:0} us p99 {Stats.Percentile(r.LatencyNs, 0.99) / 1e3:0} us");
        return 0;
    }

    /// <summary>--drive burst PORT PID N COUNT: 1,000 registered, then COUNT bursts of N connections (for perf stat -p PID).</summary>
    private static int DriveBurst(int port, int pid, int n, int count)
    {
        using var held = HeldNodes.Start(port, Burst.Prefix, Burst.Registered, stopAfterFailures: 3);
        using var generators = new BurstGenerators((n + BurstChild.MaxPerChild - 1) / BurstChild.MaxPerChild);
        for (int i = 0; i < count; i++)
        {
            var cpu = ProcStats.Cpu(pid);
            var shares = generators.Run(port, Burst.Prefix, Burst.Registered, n, 30_000, i + 1);
            var used = ProcStats.Cpu(pid) - cpu;
            var outcomes = BurstOutcomes.Sum(shares.Select(x => x.Outcomes));
            long ok = outcomes.Ok;
            double ms = (shares.Max(x => x.LastReplyNs) - shares.Min(x => x.FirstStartNs)) / 1e6;
            Console.WriteLine($"burst {n}: {ok} ok, {outcomes.Errors} errors in {ms:0.0} ms; server {used.SchedNs / 1e3 / Math.Max(1, ok):0.0} us/query");
            Thread.Sleep(300);
        }
        return 0;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "build.sh"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}

// The numbers a run produced, summarised per arm, and the targets judged from them.
using FastEpmd.Load.Harness;
using FastEpmd.Load.Scenarios;

namespace FastEpmd.Load.Report;

internal sealed class ArmSummary
{
    public required string Scenario { get; init; }
    public required string Label { get; init; }
    public required DaemonKind Kind { get; init; }
    public string? Refused { get; init; }
    public int Registered { get; init; }
    public double OfferedRate { get; init; }
    public int Concurrency { get; init; }

    // Paced, all rounds together.
    public long Ops { get; init; }
    public double Seconds { get; init; }
    public long Errors { get; init; }
    public long BadBytes { get; init; }
    public long Late { get; init; }
    public long CpuTicks { get; init; }
    public long CpuSchedNs { get; init; }
    /// <summary>Per-round percentiles: the median over rounds with min-max (tails: tail cells only).</summary>
    public Spread P50Us { get; init; }
    public Spread P99Us { get; init; }
    public Spread P999Us { get; init; }
    public int Rounds { get; init; }
    public double RoundSeconds { get; init; }
    public bool TailCell { get; init; }
    public long MinOpsPerRound { get; init; }
    public List<double> RoundCpuUsPerReq { get; init; } = new();
    public double HarnessCpuShare { get; init; }

    // Closed loop.
    public double ClosedOpsPerSec { get; init; }
    public double ClosedP50Us { get; init; }
    public double ClosedP99Us { get; init; }
    public double ClosedP999Us { get; init; }
    public long ClosedErrors { get; init; }
    public long ClosedBadBytes { get; init; }
    public double ClosedCpuUsPerReq { get; init; }
    public double ClosedServerCpuShare { get; init; }

    public long RssAfterSetupKb { get; init; }
    public long PeakRssKb { get; init; }

    public double OpsPerSec => Seconds > 0 ? Ops / Seconds : 0;
    public double CpuSeconds => (double)CpuTicks / Native.ClockTicks;
    public long Replies => Ops + BadBytes;
    public double OpsPerCpuSecond => CpuSeconds > 0 ? Replies / CpuSeconds : double.PositiveInfinity;
    public double CpuUsPerReq => Replies > 0 ? CpuSeconds * 1e6 / Replies : double.NaN;
    public double SchedUsPerReq => Replies > 0 ? CpuSchedNs / 1e3 / Replies : double.NaN;
    public bool Measured => Refused is null && Replies > 0;

    /// <summary>Below this many clock ticks /proc/PID/stat is too coarse (10 ms each) to divide by.</summary>
    public const long MinTicks = 30;

    public bool TicksSufficient => CpuTicks >= MinTicks;

    /// <summary>The stat figure when it has enough ticks, else the schedstat one (same CPU, in ns).</summary>
    public double UsPerReq => TicksSufficient ? CpuUsPerReq : SchedUsPerReq;

    public static ArmSummary From(ScenarioResult s, Arm a)
    {
        var paced = a.Paced;
        var closed = a.Closed.FirstOrDefault();
        double Us(long[] l, double p) => Stats.Percentile(l, p) / 1e3;
        return new ArmSummary
        {
            Scenario = s.Scenario.Name,
            Label = a.Label,
            Kind = a.Kind,
            Refused = a.Refused,
            Registered = a.Registered,
            OfferedRate = s.Rate,
            Concurrency = s.Scenario.Concurrency,
            Ops = paced.Sum(r => r.Ok),
            Seconds = paced.Sum(r => r.Seconds),
            Errors = paced.Sum(r => r.Errors),
            BadBytes = paced.Sum(r => r.BadBytes),
            Late = paced.Sum(r => r.Late),
            CpuTicks = paced.Sum(r => r.ServerCpu.Ticks),
            CpuSchedNs = paced.Sum(r => r.ServerCpu.SchedNs),
            P50Us = Spread.Of(paced.Select(r => Us(r.LatencyNs, 0.5))),
            P99Us = Spread.Of(paced.Select(r => Us(r.LatencyNs, 0.99))),
            P999Us = Spread.Of(paced.Select(r => Us(r.LatencyNs, 0.999))),
            Rounds = paced.Count,
            RoundSeconds = paced.Count == 0 ? 0 : paced.Average(r => r.Seconds),
            TailCell = s.Scenario.TailCell,
            MinOpsPerRound = paced.Count == 0 ? 0 : paced.Min(r => r.Ok),
            RoundCpuUsPerReq = paced.Select(r => r.ServerCpu.Seconds * 1e6 / Math.Max(1, r.Ok + r.BadBytes)).ToList(),
            HarnessCpuShare = paced.Sum(r => r.HarnessCpu.Seconds) / Math.Max(1e-9, paced.Sum(r => r.Seconds)),
            ClosedOpsPerSec = closed?.OkPerSecond ?? 0,
            ClosedP50Us = closed is null ? double.NaN : Us(closed.LatencyNs, 0.5),
            ClosedP99Us = closed is null ? double.NaN : Us(closed.LatencyNs, 0.99),
            ClosedP999Us = closed is null ? double.NaN : Us(closed.LatencyNs, 0.999),
            ClosedErrors = closed?.Errors ?? 0,
            ClosedBadBytes = closed?.BadBytes ?? 0,
            ClosedCpuUsPerReq = closed is null ? double.NaN : closed.ServerCpu.Seconds * 1e6 / Math.Max(1, closed.Ok + closed.BadBytes),
            ClosedServerCpuShare = closed is null ? double.NaN : closed.ServerCpu.Seconds / closed.Seconds,
            RssAfterSetupKb = a.RssAfterSetupKb,
            PeakRssKb = a.PeakRssKb,
        };
    }
}

internal sealed class Target
{
    public required string Name { get; init; }
    public required string Measure { get; init; }
    public double Value { get; init; } = double.NaN;
    public required double Limit { get; init; }
    public required string Unit { get; init; }
    public string Detail { get; init; } = "";

    /// <summary>The kernel floor's ratio to the same baseline (NaN: no floor arm).</summary>
    public double Floor { get; init; } = double.NaN;

    /// <summary>null: not measured in this run.</summary>
    public bool? Pass => double.IsNaN(Value) ? null : Value <= Limit;

    /// <summary>A bare epoll server with the same exchange cannot meet the limit either.</summary>
    public bool BelowFloor => Floor > Limit;
}

/// <summary>One tail comparison of FastEpmd with OTP in a tail cell (p99 or p99.9).</summary>
internal sealed record TailVerdict(string Scenario, string Percentile, string Label, Spread FastEpmd, Spread Otp, Spread Floor, string Verdict);

/// <summary>One daemon at one burst size, over the rounds.</summary>
internal sealed class BurstSummary
{
    public required string Label { get; init; }
    public required DaemonKind Kind { get; init; }
    public required int N { get; init; }
    public int Backlog { get; init; }
    public Spread DrainMs { get; init; }
    public Spread P50Us { get; init; }
    public Spread P99Us { get; init; }
    public Spread CpuUsPerQuery { get; init; }
    public BurstOutcomes Outcomes { get; init; }
    public int ListenPeakMax { get; init; }
    public Spread ListenPeak { get; init; }
    public long Overflows { get; init; }
    public long Drops { get; init; }
    public long SynRetrans { get; init; }
    public int Rounds { get; init; }
    public int Processes { get; init; }
    public string? Failed { get; init; }

    /// <summary>Every query of every round got its reply.</summary>
    public bool Survived => Failed is null && Rounds > 0 && Outcomes.Errors == 0 && Outcomes.BadBytes == 0;

    public static IEnumerable<BurstSummary> From(BurstArm arm) =>
        arm.Rounds.GroupBy(r => r.N).Select(g => new BurstSummary
        {
            Label = arm.Label,
            Kind = arm.Kind,
            N = g.Key,
            Backlog = arm.Backlog,
            DrainMs = Spread.Of(g.Select(r => r.DrainMs)),
            P50Us = Spread.Of(g.Select(r => r.P50Us)),
            P99Us = Spread.Of(g.Select(r => r.P99Us)),
            CpuUsPerQuery = Spread.Of(g.Select(r => r.CpuUsPerQuery)),
            Outcomes = BurstOutcomes.Sum(g.Select(r => r.Outcomes)),
            ListenPeakMax = g.Max(r => r.ListenPeak),
            ListenPeak = Spread.Of(g.Select(r => (double)r.ListenPeak)),
            Overflows = g.Sum(r => r.Kernel.GetValueOrDefault("ListenOverflows")),
            Drops = g.Sum(r => r.Kernel.GetValueOrDefault("ListenDrops")),
            SynRetrans = g.Sum(r => r.Kernel.GetValueOrDefault("TCPSynRetrans")),
            Rounds = g.Count(),
            Processes = g.Max(r => r.Processes),
            Failed = arm.Failed,
        });
}

/// <summary>FastEpmd's drain time against OTP's at one N, by the same range rule as the tails.</summary>
internal sealed record BurstVerdict(int N, string Label, Spread FastEpmd, Spread Otp, bool OtpSurvived, string Verdict);

internal sealed class RunReport
{
    public RunReport(Settings settings, List<ScenarioResult> results, List<StartupResult> startup, List<BurstArm> burst, double seconds)
    {
        Settings = settings;
        Results = results;
        Startup = startup;
        Seconds = seconds;
        Arms = results.SelectMany(r => r.Arms.Select(a => ArmSummary.From(r, a))).ToList();
        BurstArms = burst;
        Burst = burst.SelectMany(BurstSummary.From).ToList();
        Targets = BuildTargets();
        Tails = BuildTailVerdicts();
        BurstVerdicts = BuildBurstVerdicts();
    }

    public List<BurstArm> BurstArms { get; }
    public List<BurstSummary> Burst { get; }
    public List<TailVerdict> Tails { get; }
    public List<BurstVerdict> BurstVerdicts { get; }

    /// <summary>Verdicts only where they can mean something: tail cells with the full rounds (never the quick run).</summary>
    private List<TailVerdict> BuildTailVerdicts()
    {
        var verdicts = new List<TailVerdict>();
        if (!Settings.TailsMeaningful) return verdicts;
        foreach (var scenario in Arms.Where(a => a.TailCell).Select(a => a.Scenario).Distinct())
        {
            var otp = Find(scenario, a => a.Kind == DaemonKind.Otp);
            var floor = Find(scenario, a => a.Kind == DaemonKind.Floor);
            if (otp is null) continue;
            foreach (var fe in Arms.Where(a => a.Scenario == scenario && a.Measured && a.Kind == DaemonKind.FastEpmd))
            {
                verdicts.Add(new TailVerdict(scenario, "p99", fe.Label, fe.P99Us, otp.P99Us, floor?.P99Us ?? default, fe.P99Us.VerdictAgainst(otp.P99Us)));
                verdicts.Add(new TailVerdict(scenario, "p99.9", fe.Label, fe.P999Us, otp.P999Us, floor?.P999Us ?? default, fe.P999Us.VerdictAgainst(otp.P999Us)));
            }
        }
        return verdicts;
    }

    private List<BurstVerdict> BuildBurstVerdicts()
    {
        var verdicts = new List<BurstVerdict>();
        // As for tails: one or two rounds give a point, not a range (the quick run prints none).
        if (Settings.BurstRounds < Settings.MinTailRounds) return verdicts;
        foreach (int n in Burst.Select(b => b.N).Distinct())
        {
            var otp = Burst.FirstOrDefault(b => b.N == n && b.Kind == DaemonKind.Otp);
            if (otp is null) continue;
            foreach (var fe in Burst.Where(b => b.N == n && b.Kind == DaemonKind.FastEpmd))
                verdicts.Add(new BurstVerdict(n, fe.Label, fe.DrainMs, otp.DrainMs, otp.Survived, fe.DrainMs.VerdictAgainst(otp.DrainMs)));
        }
        return verdicts;
    }

    public Settings Settings { get; }
    public List<ScenarioResult> Results { get; }
    public List<StartupResult> Startup { get; }
    public double Seconds { get; }
    public List<ArmSummary> Arms { get; }
    public List<Target> Targets { get; }
    public DateTimeOffset When { get; } = DateTimeOffset.UtcNow;

    private ArmSummary? Find(string scenario, Func<ArmSummary, bool> which) =>
        Arms.FirstOrDefault(a => a.Scenario == scenario && a.Measured && which(a));

    /// <summary>
    /// a / b in server CPU per request from /proc/PID/stat (utime+stime); when either side has too
    /// few 10 ms ticks to divide by, from schedstat (the same CPU time in ns), and the detail says so.
    /// </summary>
    private static Target Compare(string name, string measure, ArmSummary? a, ArmSummary? b, double limit, ArmSummary? floor = null)
    {
        if (a is null || b is null) return new Target { Name = name, Measure = measure, Limit = limit, Unit = "ratio", Detail = "not measured" };
        bool stat = a.TicksSufficient && b.TicksSufficient && (floor is null || floor.TicksSufficient);
        double statRatio = a.CpuUsPerReq / b.CpuUsPerReq;
        double schedRatio = a.SchedUsPerReq / b.SchedUsPerReq;
        double floorRatio = floor is null ? double.NaN : stat ? floor.CpuUsPerReq / b.CpuUsPerReq : floor.SchedUsPerReq / b.SchedUsPerReq;
        string floorDetail = floor is null ? ""
            : $"; kernel floor {(stat ? floor.CpuUsPerReq : floor.SchedUsPerReq):0.0} us, FastEpmd / floor {(stat ? a.CpuUsPerReq / floor.CpuUsPerReq : a.SchedUsPerReq / floor.SchedUsPerReq):0.00}";
        return new Target
        {
            Name = name,
            Measure = measure,
            Value = stat ? statRatio : schedRatio,
            Floor = floorRatio,
            Limit = limit,
            Unit = "ratio",
            Detail = (stat
                ? $"stat: {a.CpuUsPerReq:0.0} / {b.CpuUsPerReq:0.0} us ({a.CpuTicks} / {b.CpuTicks} ticks); schedstat ratio {schedRatio:0.000}"
                : $"schedstat: {a.SchedUsPerReq:0.00} / {b.SchedUsPerReq:0.0} us (stat has only {a.CpuTicks} / {b.CpuTicks} ticks: {statRatio:0.000})") + floorDetail,
        };
    }

    private List<Target> BuildTargets()
    {
        var t = new List<Target>();
        void Ratio(string scenario, string name, double limit)
        {
            var fe = Find(scenario, a => a.Kind == DaemonKind.FastEpmd);
            var otp = Find(scenario, a => a.Kind == DaemonKind.Otp);
            var floor = Find(scenario, a => a.Kind == DaemonKind.Floor);
            t.Add(Compare(name, "server CPU/request, FastEpmd / OTP", fe, otp, limit, floor));
        }
        Ratio("query16", "query, 16 in flight", 0.77);
        Ratio("query64", "query, 64 in flight", 0.77);
        Ratio("names10", "NAMES, 10 nodes", 0.33);
        Ratio("names1000", "NAMES, 1,000 nodes", 0.033);
        Ratio("churn", "churn (register, close)", 0.67);
        Ratio("hold1000", "1,000 held + queries", 0.25);

        var base19 = Find("hold19000", a => a.Label == Hold.BaselineLabel);
        var at19 = Find("hold19000", a => a.Kind == DaemonKind.FastEpmd && a.Label != Hold.BaselineLabel);
        t.Add(Compare("19,000 held: query cost vs 1,000 held", "FastEpmd CPU/request @19,000 / @1,000", at19, base19, 1.25));

        var metricsOn = Find("metrics", a => a.Label == MetricsCost.OnLabel);
        var metricsOff = Find("metrics", a => a.Label == MetricsCost.OffLabel);
        var cost = Compare("-metrics, scraped every second", "query16 server CPU/request, metrics on / off", metricsOn, metricsOff, 1.05);
        if (metricsOn is not null && metricsOff is not null)
        {
            var on = Spread.Of(metricsOn.RoundCpuUsPerReq);
            var off = Spread.Of(metricsOff.RoundCpuUsPerReq);
            var scraper = (Results.FirstOrDefault(r => r.Scenario is MetricsCost)?.Scenario as MetricsCost)?.Scraper;
            cost = new Target
            {
                Name = cost.Name, Measure = cost.Measure, Value = cost.Value, Limit = cost.Limit, Unit = cost.Unit,
                Detail = cost.Detail + $"; per round on {on.Median:0.0} ({on.Min:0.0}-{on.Max:0.0}) us, off {off.Median:0.0} ({off.Min:0.0}-{off.Max:0.0}) us: "
                    + (on.VerdictAgainst(off) == "worse" ? "**worse**" : on.VerdictAgainst(off))
                    + (scraper is null ? "" : $"; {scraper.Scrapes} scrapes answered, {scraper.Failures} failed"),
            };
        }
        t.Add(cost);

        var fs = Startup.FirstOrDefault(s => s.Kind == DaemonKind.FastEpmd);
        t.Add(new Target
        {
            Name = "idle RSS",
            Measure = "FastEpmd VmRSS after one NAMES, median",
            Value = fs is null ? double.NaN : Stats.Median(fs.IdleRssKb.Select(x => (double)x)) / 1024,
            Limit = 4,
            Unit = "MiB",
            Detail = fs is null ? "" : $"{Stats.Median(fs.IdleRssKb.Select(x => (double)x)):0} kB, of which anonymous {Stats.Median(fs.IdleRssAnonKb.Select(x => (double)x)):0} kB (the rest: mapped pages of the binary, libc, libm, ld.so)",
        });
        var at10k = Find("hold10000", a => a.Kind == DaemonKind.FastEpmd && a.Label != Hold.BaselineLabel)
            ?? Arms.FirstOrDefault(a => a.Scenario == "hold10000" && a.Kind == DaemonKind.FastEpmd && a.Label != Hold.BaselineLabel);
        t.Add(new Target
        {
            Name = "RSS with 10,000 nodes",
            Measure = "FastEpmd VmHWM (peak) with 10,000 held + queries",
            Value = at10k is null || at10k.PeakRssKb < 0 ? double.NaN : at10k.PeakRssKb / 1024.0,
            Limit = 16,
            Unit = "MiB",
            Detail = at10k is null ? "" : $"VmRSS after registering {at10k.RssAfterSetupKb} kB, peak {at10k.PeakRssKb} kB",
        });
        t.Add(new Target
        {
            Name = "serving after start",
            Measure = "FastEpmd Process.Start -> connect succeeds, median",
            Value = fs is null ? double.NaN : Stats.Median(fs.ConnectMs),
            Limit = 50,
            Unit = "ms",
            Detail = fs is null ? "" : $"max {fs.ConnectMs.Max():0.0} ms; NAMES reply at {Stats.Median(fs.FirstReplyMs):0.0} ms",
        });
        return t;
    }
}
